import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { paths } from '../../../lib/paths.ts';
import { useSessionState } from '../../../lib/session-context.tsx';
import { useVerifyEmail } from '../api/notifications.ts';

const PENDING_KEY = 'sfe.pending-email-token';

/**
 * Takes the token from the URL fragment (which never reaches a server or its logs),
 * removes it from the address bar and history at once, and confirms it for the signed-in
 * user. Signed out, it keeps the token for this tab only until the person signs in.
 */
function takeToken(): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]{16,128})(?:&|$)/.exec(window.location.hash);
  if (match?.[1]) {
    window.history.replaceState(window.history.state, '', window.location.pathname);
    sessionStorage.setItem(PENDING_KEY, match[1]);
    return match[1];
  }
  return sessionStorage.getItem(PENDING_KEY);
}

export function VerifyEmail() {
  const state = useSessionState();
  const verify = useVerifyEmail();
  const [token] = useState(takeToken);
  const sent = useRef(false);
  useEffect(() => {
    if (state.status !== 'signed-in' || !token || sent.current) return;
    sent.current = true;
    verify.mutate(token, { onSettled: () => sessionStorage.removeItem(PENDING_KEY) });
  }, [state.status, token, verify]);

  if (!token && !verify.isSuccess) {
    return <p>This link holds no verification token. Open the link from the email again, or save your address on the profile page to get a new one.</p>;
  }
  if (state.status === 'loading') return <Spinner label="Restoring your session…" />;
  if (state.status === 'signed-out') {
    return (
      <p>
        <Link to={paths.signIn} state={{ from: paths.verifyEmail }}>
          Sign in
        </Link>{' '}
        to confirm your email address.
      </p>
    );
  }
  if (verify.isSuccess) {
    return (
      <p role="status">
        Your email address {verify.data.email ? <strong>{verify.data.email}</strong> : null} is verified. <Link to={paths.profile}>Back to your profile</Link>
      </p>
    );
  }
  if (verify.isError) {
    return (
      <>
        <ErrorAlert error={verify.error} title="Not verified." />
        <p>
          The link may have expired or been used already. Save your address again on <Link to={paths.profile}>your profile</Link> to get a new one.
        </p>
      </>
    );
  }
  return <Spinner label="Verifying your email address…" />;
}
