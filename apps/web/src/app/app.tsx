import type { ApiClient } from '@sfe/api-client';
import { useEffect, useState } from 'react';
import { RouterProvider } from 'react-router';
import { MFA_REQUIRED_EVENT } from '../lib/api-client.tsx';
import { paths } from '../lib/paths.ts';
import type { Session } from '../lib/session.ts';
import { AppProvider } from './provider.tsx';
import { createRouter } from './router.tsx';

export function App({ session, client }: { session: Session; client: ApiClient }) {
  const [router] = useState(createRouter);
  useEffect(() => {
    void session.start();
  }, [session]);
  useEffect(() => {
    // A role that must have a second factor goes to enrolment whenever the API says so.
    const toEnrolment = () => void router.navigate(`${paths.profile}#two-factor`);
    window.addEventListener(MFA_REQUIRED_EVENT, toEnrolment);
    return () => window.removeEventListener(MFA_REQUIRED_EVENT, toEnrolment);
  }, [router]);
  return (
    <AppProvider session={session} client={client}>
      <RouterProvider router={router} />
    </AppProvider>
  );
}
