import { Suspense, type ReactNode } from 'react';
import { NavLink, Outlet } from 'react-router';
import { Spinner } from '../../components/ui/spinner.tsx';
import { OpenAlertsBadge } from '../../features/admin/components/open-alerts-badge.tsx';
import { UnreadBadge } from '../../features/notifications/components/unread-badge.tsx';
import { paths } from '../../lib/paths.ts';
import { useSession, useUser } from '../../lib/session-context.tsx';

const ROLE_NAMES = { organization: 'Organization', consultant: 'Consultant', admin: 'Administrator' } as const;

export function AppLayout() {
  const user = useUser();
  const session = useSession();
  const links: { to: string; label: string; extra?: ReactNode }[] =
    user.role === 'consultant'
      ? [
          { to: paths.files, label: 'Catalog' },
          { to: paths.requests, label: 'My requests' },
        ]
      : user.role === 'organization'
        ? [
            { to: paths.files, label: 'My files' },
            { to: paths.requests, label: 'Requests inbox' },
          ]
        : [
            { to: paths.files, label: 'All files' },
            { to: paths.adminUsers, label: 'Users' },
            { to: paths.adminAudit, label: 'Audit' },
            { to: paths.adminAlerts, label: 'Alerts', extra: <OpenAlertsBadge /> },
            { to: paths.adminMasterKey, label: 'Master key' },
          ];
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">SFE</span>
        <nav aria-label="Main">
          <ul>
            {[...links, { to: paths.notifications, label: 'Notifications', extra: <UnreadBadge /> }, { to: paths.profile, label: 'Profile' }].map((link) => (
              <li key={link.to}>
                <NavLink to={link.to}>
                  {link.label}
                  {link.extra}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {user.username} <span className="muted">({ROLE_NAMES[user.role]})</span>
          </span>
          <button type="button" className="button-small" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Spinner label="Loading…" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
