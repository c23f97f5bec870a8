import { createApiClient, type ApiClient } from '@sfe/api-client';
import type { Role, User } from '@sfe/contract';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { AppProvider, createQueryClient } from '../app/provider.tsx';
import { Session } from '../lib/session.ts';

export function testUser(role: Role, username = `${role}-user`): User {
  return {
    id: `${role}-id`,
    username,
    role,
    status: 'active',
    publicKeyFingerprint: 'SHA256:abcd',
    keyGeneratedAt: '2025-01-01T00:00:00.000Z',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

/**
 * A real client pointed at a closed port: any route a test did not replace with a
 * small typed fake fails loudly instead of reaching something by accident.
 */
export function unreachableClient(): ApiClient {
  return createApiClient({ baseUrl: 'http://127.0.0.1:9' });
}

export function renderWithApp(ui: ReactElement, { client, role = 'organization' }: { client: ApiClient; role?: Role }) {
  const session = new Session(sessionStorage);
  session.signIn({ accessToken: 'not-a-jwt', refreshToken: 'r', tokenType: 'Bearer', expiresIn: 900, user: testUser(role) });
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { retry: false, staleTime: 0 } });
  const result = render(
    <AppProvider session={session} client={client} queryClient={queryClient}>
      <MemoryRouter>{ui}</MemoryRouter>
    </AppProvider>,
  );
  return { ...result, session, queryClient };
}
