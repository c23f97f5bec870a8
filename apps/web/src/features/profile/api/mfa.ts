import type { ApiClient } from '@sfe/api-client';
import { startRegistration } from '@simplewebauthn/browser';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';

/** Own key, not in lib/query-keys.ts: nothing outside this feature shows or changes it. */
const mfaKey = ['mfa'] as const;

export const mfaQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: mfaKey,
    queryFn: ({ signal }) => client.users.mfa.status({ signal }),
  });

export function useMfaStatus() {
  const client = useApiClient();
  return useQuery(mfaQueryOptions(client));
}

function useMfaMutation<T, V>(mutationFn: (variables: V) => Promise<T>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    // Variables may hold a password or a code, answers a secret: keep neither in the cache.
    gcTime: 0,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mfaKey }),
  });
}

export function useStartTotp() {
  const client = useApiClient();
  return useMutation({ mutationFn: () => client.users.mfa.startTotp(), gcTime: 0 });
}

export function useConfirmTotp() {
  const client = useApiClient();
  return useMfaMutation((code: string) => client.users.mfa.confirmTotp(code));
}

export function useRemoveTotp() {
  const client = useApiClient();
  return useMfaMutation((password: string) => client.users.mfa.removeTotp(password));
}

/** Registration options, the browser's WebAuthn prompt, then the attestation to the API. */
export function useRegisterPasskey() {
  const client = useApiClient();
  return useMfaMutation(async (name: string) => {
    const options = await client.users.mfa.passkeyOptions();
    const response = await startRegistration({ optionsJSON: options as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'] });
    return client.users.mfa.registerPasskey({ response, ...(name ? { name } : {}) });
  });
}

export function useRemovePasskey() {
  const client = useApiClient();
  return useMfaMutation(({ id, password }: { id: string; password: string }) => client.users.mfa.removePasskey(id, password));
}
