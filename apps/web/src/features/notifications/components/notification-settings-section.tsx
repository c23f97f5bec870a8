import type { NotificationKind } from '@sfe/contract';
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { fieldError } from '../../../lib/errors.ts';
import { useUser } from '../../../lib/session-context.tsx';
import { useNotificationSettings, useSaveNotificationSettings } from '../api/notifications.ts';
import { KIND_LABELS, KINDS_BY_ROLE } from './kinds.ts';

/** Profile > Email notifications: the address (verified by a link) and which kinds are also emailed. */
export function NotificationSettingsSection() {
  const user = useUser();
  const settings = useNotificationSettings();
  const save = useSaveNotificationSettings();
  const [email, setEmail] = useState('');
  const [events, setEvents] = useState<NotificationKind[]>([]);
  const loaded = settings.data;
  useEffect(() => {
    if (!loaded) return;
    setEmail(loaded.email ?? '');
    setEvents(loaded.events);
  }, [loaded]);

  const kinds = KINDS_BY_ROLE[user.role];
  function toggle(kind: NotificationKind, on: boolean) {
    setEvents((current) => (on ? [...current.filter((k) => k !== kind), kind] : current.filter((k) => k !== kind)));
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ email: email.trim() === '' ? null : email.trim(), events });
  }

  const emailError = fieldError(save.error, 'email');
  return (
    <section className="card" aria-labelledby="email-notifications-title">
      <h2 id="email-notifications-title">Email notifications</h2>
      {settings.isPending ? <Spinner label="Loading settings…" /> : null}
      <ErrorAlert error={settings.error} />
      {loaded ? (
        <form onSubmit={submit} className="stack" noValidate>
          {!loaded.emailEnabled ? <p className="muted">This server sends no email; notifications appear in the app only.</p> : null}
          <Field
            label="Email address"
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={emailError}
            hint={
              loaded.email
                ? loaded.emailVerified
                  ? 'Verified.'
                  : 'Not verified yet: open the link we emailed to this address. Nothing is emailed until then.'
                : 'Leave empty to receive no email.'
            }
          />
          <fieldset>
            <legend>Also email me when</legend>
            {kinds.map((kind) => (
              <label key={kind} className="choice">
                <input type="checkbox" checked={events.includes(kind)} onChange={(e) => toggle(kind, e.target.checked)} />
                {KIND_LABELS[kind]}
              </label>
            ))}
          </fieldset>
          <ErrorAlert error={emailError ? null : save.error} />
          {save.isSuccess ? (
            <p role="status">{save.data.email && !save.data.emailVerified ? 'Saved. Check your inbox for the verification link.' : 'Saved.'}</p>
          ) : null}
          <button type="submit" className="button-primary" disabled={save.isPending}>
            {save.isPending ? <Spinner label="Saving…" /> : 'Save email settings'}
          </button>
        </form>
      ) : null}
    </section>
  );
}
