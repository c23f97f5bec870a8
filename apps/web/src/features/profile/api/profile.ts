import type { ApiClient } from '@sfe/api-client';
import type { ChangePasswordBody, RotateKeysBody } from '@sfe/contract';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const keysQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: queryRoots.keys,
    queryFn: ({ signal }) => client.users.keys({ signal }),
  });

export function useMyKeys() {
  const client = useApiClient();
  return useQuery(keysQueryOptions(client));
}

export function useRotateKeys() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RotateKeysBody) => client.users.rotateKeys(body),
    // Variables hold the password: drop the mutation as soon as nothing observes it.
    gcTime: 0,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryRoots.keys }),
        queryClient.invalidateQueries({ queryKey: queryRoots.accessRequests }),
      ]),
  });
}

export function useChangePassword() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ChangePasswordBody) => client.users.changePassword(body),
    gcTime: 0,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryRoots.keys }),
  });
}
