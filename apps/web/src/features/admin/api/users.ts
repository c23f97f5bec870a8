import type { ApiClient } from '@sfe/api-client';
import { saveDownload } from '@sfe/api-client';
import type { AdminUsersQuery, ErasureCertificate } from '@sfe/contract';
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const adminUsersKeys = {
  all: queryRoots.adminUsers,
  list: (query: AdminUsersQuery) => [...queryRoots.adminUsers, 'list', query] as const,
};

export const adminUsersQueryOptions = (client: ApiClient, query: AdminUsersQuery) =>
  queryOptions({
    queryKey: adminUsersKeys.list(query),
    queryFn: ({ signal }) => client.admin.users.list(query, { signal }),
  });

export function useAdminUsers(query: AdminUsersQuery) {
  const client = useApiClient();
  return useQuery({ ...adminUsersQueryOptions(client, query), placeholderData: keepPreviousData });
}

/** Usernames by id, for the audit and alert screens (which carry ids only). */
export function useUsernames(): ReadonlyMap<string, string> {
  const users = useAdminUsers({ limit: 200 });
  const items = users.data?.items;
  const names = new Map<string, string>();
  for (const user of items ?? []) names.set(user.id, user.username);
  return names;
}

/**
 * One mutation per account action. Each changes what the users table, the audit log
 * and the alerts show, so all three are refetched; grants changed too.
 */
function useUserMutation<T>(run: (client: ApiClient, id: string) => Promise<T>) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => run(client, id),
    onSuccess: () =>
      Promise.all(
        [queryRoots.adminUsers, queryRoots.adminAudit, queryRoots.accessRequests, queryRoots.files].map((queryKey) =>
          queryClient.invalidateQueries({ queryKey }),
        ),
      ),
  });
}

export const useDisableUser = () => useUserMutation((client, id) => client.admin.users.disable(id));
export const useEnableUser = () => useUserMutation((client, id) => client.admin.users.enable(id));
export const useRevokeGrants = () => useUserMutation((client, id) => client.admin.users.revokeGrants(id));
export const useDeletePrivateKey = () => useUserMutation((client, id) => client.admin.users.deletePrivateKey(id));
export const useResetMfa = () => useUserMutation((client, id) => client.admin.users.mfaReset(id));
export const useIncidentResponse = () => useUserMutation((client, id) => client.admin.users.incident(id));
export const useEraseUser = () => useUserMutation((client, id) => client.admin.users.erase(id));

/** The certificate as the API gave it, as a JSON file the admin keeps. */
export function saveCertificate(certificate: ErasureCertificate) {
  const blob = new Blob([`${JSON.stringify(certificate, null, 2)}\n`], { type: 'application/json' });
  return saveDownload({
    filename: `erasure-certificate-${certificate.userId}.json`,
    contentType: 'application/json',
    size: blob.size,
    body: blob.stream(),
  });
}
