import type { ApiClient } from '@sfe/api-client';
import { isApiError } from '@sfe/api-client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { ApiClientProvider } from '../lib/api-client.tsx';
import type { Session } from '../lib/session.ts';
import { SessionProvider } from '../lib/session-context.tsx';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // A 4xx will not change by asking again; network blips and 5xx may.
        retry: (count, error) => !(isApiError(error) && error.status < 500) && count < 2,
      },
    },
  });
}

interface AppProviderProps {
  session: Session;
  client: ApiClient;
  queryClient?: QueryClient;
  children: ReactNode;
}

export function AppProvider({ session, client, queryClient: given, children }: AppProviderProps) {
  const [queryClient] = useState(() => given ?? createQueryClient());
  useEffect(() => {
    // Nothing one account saw may be shown to the next: drop the cache when the session ends.
    return session.subscribe(() => {
      if (session.getState().status === 'signed-out') queryClient.clear();
    });
  }, [session, queryClient]);
  return (
    <SessionProvider session={session}>
      <ApiClientProvider client={client}>
        <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
      </ApiClientProvider>
    </SessionProvider>
  );
}
