import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { Spinner } from '../../components/ui/spinner.tsx';
import { paths } from '../../lib/paths.ts';
import type { Role } from '@sfe/contract';
import { useSessionState, useUser } from '../../lib/session-context.tsx';

/** Signed-out visitors (including an expired session) land on the sign-in page, never a blank screen. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <main className="centered">
        <Spinner label="Restoring your session…" />
      </main>
    );
  }
  if (state.status === 'signed-out') {
    // After an expiry, come back here once signed in; after a sign-out, start afresh
    // (the next person to sign in on this tab may be someone else).
    const from = state.byUser ? undefined : { from: location.pathname + location.search };
    return <Navigate to={paths.signIn} replace state={from} />;
  }
  return children;
}

export function GuestOnly({ children }: { children: ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <main className="centered">
        <Spinner label="Loading…" />
      </main>
    );
  }
  if (state.status === 'signed-in') {
    const from: unknown = location.state && typeof location.state === 'object' ? (location.state as { from?: unknown }).from : undefined;
    // Only same-app paths: never bounce to an address taken from elsewhere.
    const target = typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') ? from : paths.files;
    return <Navigate to={target} replace />;
  }
  return children;
}

/**
 * A screen for one role only. Anyone else gets the not-found page, exactly as for an
 * address that does not exist: no flash of the screen, no hint that it is there.
 */
export function RequireRole({ role, children, fallback }: { role: Role; children: ReactNode; fallback: ReactNode }) {
  const user = useUser();
  return user.role === role ? children : fallback;
}
