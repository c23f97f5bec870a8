import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { Spinner } from '../components/ui/spinner.tsx';
import { paths } from '../lib/paths.ts';
import { AppLayout } from './layouts/app-layout.tsx';
import { GuestOnly, RequireAuth, RequireRole } from './layouts/guards.tsx';

// One chunk per screen: the sign-in page does not pay for the file tables.
const SignIn = lazy(() => import('./routes/sign-in.tsx'));
const SignUp = lazy(() => import('./routes/sign-up.tsx'));
const Files = lazy(() => import('./routes/files.tsx'));
const FileDetail = lazy(() => import('./routes/file-detail.tsx'));
const Requests = lazy(() => import('./routes/requests.tsx'));
const Profile = lazy(() => import('./routes/profile.tsx'));
const NotFound = lazy(() => import('./routes/not-found.tsx'));
const Notifications = lazy(() => import('./routes/notifications.tsx'));
const VerifyEmail = lazy(() => import('./routes/verify-email.tsx'));
const AdminUsers = lazy(() => import('./routes/admin-users.tsx'));
const AdminAudit = lazy(() => import('./routes/admin-audit.tsx'));
const AdminAlerts = lazy(() => import('./routes/admin-alerts.tsx'));
const AdminMasterKey = lazy(() => import('./routes/admin-master-key.tsx'));

function page(Component: LazyExoticComponent<ComponentType>) {
  return (
    <Suspense fallback={<Spinner label="Loading…" />}>
      <Component />
    </Suspense>
  );
}

export function createRouter() {
  return createBrowserRouter([
    { path: paths.signIn, element: <GuestOnly>{page(SignIn)}</GuestOnly> },
    { path: paths.signUp, element: <GuestOnly>{page(SignUp)}</GuestOnly> },
    // Signed in or not: it takes the token out of the address bar first, then asks to sign in if needed.
    { path: paths.verifyEmail, element: page(VerifyEmail) },
    {
      element: (
        <RequireAuth>
          <AppLayout />
        </RequireAuth>
      ),
      children: [
        { path: '/', element: <Navigate to={paths.files} replace /> },
        { path: paths.files, element: page(Files) },
        { path: paths.fileRoute, element: page(FileDetail) },
        { path: paths.requests, element: page(Requests) },
        { path: paths.profile, element: page(Profile) },
        { path: paths.notifications, element: page(Notifications) },
        ...[
          { path: paths.adminUsers, screen: AdminUsers },
          { path: paths.adminAudit, screen: AdminAudit },
          { path: paths.adminAlerts, screen: AdminAlerts },
          { path: paths.adminMasterKey, screen: AdminMasterKey },
        ].map(({ path, screen }) => ({
          path,
          element: (
            <RequireRole role="admin" fallback={page(NotFound)}>
              {page(screen)}
            </RequireRole>
          ),
        })),
      ],
    },
    { path: '*', element: page(NotFound) },
  ]);
}
