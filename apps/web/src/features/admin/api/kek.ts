import type { ApiClient } from '@sfe/api-client';
import type { KekStatus, KekVerifyBody } from '@sfe/contract';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const kekKeys = { status: [...queryRoots.adminKek, 'status'] as const };

/** While a rotation runs, the status is polled so the progress moves on screen. */
const POLL_MS = 1000;

export const kekStatusQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: kekKeys.status,
    queryFn: ({ signal }) => client.admin.kek.status({ signal }),
    refetchInterval: (query) => ((query.state.data as KekStatus | undefined)?.rotation?.status === 'running' ? POLL_MS : false),
  });

export function useKekStatus() {
  const client = useApiClient();
  return useQuery(kekStatusQueryOptions(client));
}

export function useRotateKek() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.admin.kek.rotate(),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryRoots.adminKek }),
  });
}

export function useVerifyKek() {
  const client = useApiClient();
  return useMutation({ mutationFn: (body: KekVerifyBody) => client.admin.kek.verify(body) });
}
