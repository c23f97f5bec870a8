import type { MfaChallengeResponse } from '@sfe/contract';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { usePasskeySignIn, useSecondFactor } from '../api/auth.ts';

/**
 * The second sign-in step: a code from the authenticator app, a recovery code, or a
 * passkey. The mfaToken lives only in this component's props and dies with it.
 */
export function MfaStep({ challenge, onCancel }: { challenge: MfaChallengeResponse; onCancel: () => void }) {
  const factor = useSecondFactor();
  const passkey = usePasskeySignIn();
  const [useRecovery, setUseRecovery] = useState(!challenge.methods.includes('totp'));
  const [code, setCode] = useState('');
  const busy = factor.isPending || passkey.isPending;
  const hasCodes = challenge.methods.includes('totp') || challenge.methods.includes('recovery_code');

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = code.trim();
    factor.mutate(useRecovery ? { mfaToken: challenge.mfaToken, recoveryCode: value } : { mfaToken: challenge.mfaToken, code: value }, {
      onSettled: () => setCode(''),
    });
  }

  return (
    <div className="stack">
      <h2>Second factor</h2>
      {hasCodes ? (
        <form onSubmit={submit} noValidate className="stack">
          {useRecovery ? (
            <Field label="Recovery code" name="recoveryCode" autoComplete="off" value={code} onChange={(e) => setCode(e.target.value)} required />
          ) : (
            <Field
              label="Authentication code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
              hint="The six digits your authenticator app shows."
              required
            />
          )}
          <button type="submit" className="button-primary" disabled={busy}>
            {factor.isPending ? <Spinner label="Checking…" /> : 'Verify'}
          </button>
          {challenge.methods.includes('totp') && challenge.methods.includes('recovery_code') ? (
            <button type="button" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? 'Use a code from the app' : 'Use a recovery code'}
            </button>
          ) : null}
        </form>
      ) : null}
      {challenge.methods.includes('webauthn') ? (
        <button type="button" className={hasCodes ? '' : 'button-primary'} disabled={busy} onClick={() => passkey.mutate(challenge.mfaToken)}>
          {passkey.isPending ? <Spinner label="Waiting for your passkey…" /> : 'Use a passkey'}
        </button>
      ) : null}
      <ErrorAlert error={factor.error ?? passkey.error} />
      <button type="button" onClick={onCancel}>
        Start over
      </button>
    </div>
  );
}
