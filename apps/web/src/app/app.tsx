import type { ApiClient } from '@sfe/api-client';
import { useEffect, useState } from 'react';
import { RouterProvider } from 'react-router';
import type { Session } from '../lib/session.ts';
import { AppProvider } from './provider.tsx';
import { createRouter } from './router.tsx';

export function App({ session, client }: { session: Session; client: ApiClient }) {
  const [router] = useState(createRouter);
  useEffect(() => {
    void session.start();
  }, [session]);
  return (
    <AppProvider session={session} client={client}>
      <RouterProvider router={router} />
    </AppProvider>
  );
}
