import type { Passkey, TotpEnrolment } from '@sfe/contract';
import QRCode from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { useConfirmTotp, useMfaStatus, useRegisterPasskey, useRemovePasskey, useRemoveTotp, useStartTotp } from '../api/mfa.ts';

/** The otpauth:// URL as a QR code, drawn here (never sent to a QR service). */
function QrCode({ value }: { value: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(value, { margin: 1, width: 200, errorCorrectionLevel: 'M' }).then(
      (url) => live && setSrc(url),
      () => live && setSrc(null),
    );
    return () => {
      live = false;
    };
  }, [value]);
  return src ? <img src={src} width={200} height={200} alt="QR code for your authenticator app" /> : <Spinner label="Drawing the QR code…" />;
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <div className="stack" role="region" aria-label="Recovery codes">
      <p>
        <strong>Save these recovery codes now.</strong> Each signs you in once if you lose your authenticator; they are not shown again.
      </p>
      <ol className="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <button type="button" className="button-primary" onClick={onDone}>
        I have saved them
      </button>
    </div>
  );
}

function TotpSetup({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const start = useStartTotp();
  const confirm = useConfirmTotp();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');

  if (!enrolment) {
    return (
      <div className="stack">
        <button type="button" onClick={() => start.mutate(undefined, { onSuccess: setEnrolment })} disabled={start.isPending}>
          {start.isPending ? <Spinner label="Starting…" /> : 'Set up an authenticator app'}
        </button>
        <ErrorAlert error={start.error} />
      </div>
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    confirm.mutate(code.trim(), {
      onSuccess: ({ recoveryCodes }) => {
        setEnrolment(null);
        onCodes(recoveryCodes);
      },
      onSettled: () => setCode(''),
    });
  }

  return (
    <form onSubmit={submit} className="stack" noValidate>
      <p>Scan this QR code with your authenticator app, or type the secret key into it. Then enter the code it shows.</p>
      <QrCode value={enrolment.otpauthUrl} />
      <p>
        Secret key: <code data-testid="totp-secret">{enrolment.secret}</code>
      </p>
      <Field
        label="Code from the app"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={6}
        value={code}
        onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
        required
      />
      <ErrorAlert error={confirm.error} />
      <button type="submit" className="button-primary" disabled={confirm.isPending}>
        {confirm.isPending ? <Spinner label="Checking…" /> : 'Confirm'}
      </button>
    </form>
  );
}

/** Removing a factor asks for the password again (it spends from the sign-in budget). */
function RemoveWithPassword({ label, onRemove, pending, error }: { label: string; onRemove: (password: string, done: () => void) => void; pending: boolean; error: unknown }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  if (!open) {
    return (
      <button type="button" className="button-small" onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  }
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        onRemove(password, () => setOpen(false));
        setPassword('');
      }}
    >
      <Field label="Your password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      <ErrorAlert error={error} />
      <div className="row">
        <button type="submit" className="button-danger" disabled={pending}>
          {pending ? <Spinner label="Removing…" /> : label}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PasskeyRow({ passkey }: { passkey: Passkey }) {
  const remove = useRemovePasskey();
  return (
    <li className="stack">
      <span>
        <strong>{passkey.name}</strong> added {formatDateTime(passkey.createdAt)}
      </span>
      <RemoveWithPassword
        label={`Remove ${passkey.name}`}
        pending={remove.isPending}
        error={remove.error}
        onRemove={(password, done) => remove.mutate({ id: passkey.id, password }, { onSuccess: done })}
      />
    </li>
  );
}

function Passkeys({ passkeys }: { passkeys: Passkey[] }) {
  const register = useRegisterPasskey();
  const [name, setName] = useState('');
  return (
    <div className="stack">
      <h3>Passkeys</h3>
      {passkeys.length > 0 ? (
        <ul className="stack" aria-label="Your passkeys">
          {passkeys.map((passkey) => (
            <PasskeyRow key={passkey.id} passkey={passkey} />
          ))}
        </ul>
      ) : (
        <p>No passkey yet.</p>
      )}
      <form
        className="stack"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          register.mutate(name.trim(), { onSuccess: () => setName('') });
        }}
      >
        <Field label="Passkey name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} hint="Optional, e.g. the device it lives on." />
        <ErrorAlert error={register.error} />
        <button type="submit" disabled={register.isPending}>
          {register.isPending ? <Spinner label="Waiting for your passkey…" /> : 'Add a passkey'}
        </button>
      </form>
    </div>
  );
}

/** Profile > Two-factor authentication: authenticator app (TOTP) with recovery codes, and passkeys. */
export function TwoFactorSection() {
  const status = useMfaStatus();
  const removeTotp = useRemoveTotp();
  const [codes, setCodes] = useState<string[] | null>(null);

  return (
    <section className="card" id="two-factor" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">Two-factor authentication</h2>
      {status.isPending ? <Spinner label="Loading…" /> : null}
      <ErrorAlert error={status.error} />
      {status.data ? (
        <div className="stack">
          {status.data.required && !status.data.totp && status.data.webauthn.length === 0 ? (
            <div className="alert alert-error" role="alert">
              Your role must use a second factor. Set up an authenticator app or a passkey to continue.
            </div>
          ) : null}
          {codes ? <RecoveryCodes codes={codes} onDone={() => setCodes(null)} /> : null}
          <h3>Authenticator app</h3>
          {status.data.totp ? (
            <div className="stack">
              <p>
                On. Recovery codes left: <strong>{status.data.recoveryCodesLeft}</strong>
              </p>
              <RemoveWithPassword
                label="Remove the authenticator app"
                pending={removeTotp.isPending}
                error={removeTotp.error}
                onRemove={(password, done) => removeTotp.mutate(password, { onSuccess: done })}
              />
            </div>
          ) : codes ? null : (
            <TotpSetup onCodes={setCodes} />
          )}
          <Passkeys passkeys={status.data.webauthn} />
        </div>
      ) : null}
    </section>
  );
}
