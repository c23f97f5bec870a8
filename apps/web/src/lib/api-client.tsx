import { createApiClient, type ApiClient } from '@sfe/api-client';
import { createContext, useContext, type ReactNode } from 'react';
import type { Session } from './session.ts';

const ApiClientContext = createContext<ApiClient | null>(null);

export function ApiClientProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ApiClientContext.Provider value={client}>{children}</ApiClientContext.Provider>;
}

/** The one way features reach the API; provided once by the app (or a test). */
export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (!client) throw new Error('useApiClient must be used inside ApiClientProvider');
  return client;
}

/** Fired on window when an answer says the account must enrol a second factor first (the app routes to enrolment). */
export const MFA_REQUIRED_EVENT = 'sfe:mfa-required';

/** Same-origin client wired to the session: bearer token, silent refresh, expiry. */
export function createSessionClient(session: Session, baseUrl = ''): ApiClient {
  const client = createApiClient({
    baseUrl,
    getAccessToken: session.getAccessToken,
    refresh: session.refresh,
    onUnauthorized: session.expire,
    onMfaRequired: () => window.dispatchEvent(new Event(MFA_REQUIRED_EVENT)),
  });
  session.connect(client.auth);
  return client;
}
