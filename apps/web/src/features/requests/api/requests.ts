import type { ApiClient, TransferProgress } from '@sfe/api-client';
import { saveDownload } from '@sfe/api-client';
import type { ApproveBody, DenyBody, ListAccessRequestsQuery } from '@sfe/contract';
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const requestsKeys = {
  all: queryRoots.accessRequests,
  list: (query: ListAccessRequestsQuery) => [...queryRoots.accessRequests, 'list', query] as const,
};

export const getAccessRequests = (client: ApiClient, query: ListAccessRequestsQuery, signal?: AbortSignal) =>
  client.accessRequests.list(query, { signal });

export const accessRequestsQueryOptions = (client: ApiClient, query: ListAccessRequestsQuery) =>
  queryOptions({
    queryKey: requestsKeys.list(query),
    queryFn: ({ signal }) => getAccessRequests(client, query, signal),
  });

export const publicKeyQueryOptions = (client: ApiClient, userId: string) =>
  queryOptions({
    queryKey: [...queryRoots.publicKeys, userId] as const,
    queryFn: ({ signal }) => client.users.publicKey(userId, { signal }),
  });

/** Someone's current public key, e.g. the consultant's before an approval wraps the file key to it. */
export function usePublicKey(userId: string) {
  const client = useApiClient();
  return useQuery(publicKeyQueryOptions(client, userId));
}

export function useAccessRequests(query: ListAccessRequestsQuery) {
  const client = useApiClient();
  return useQuery({ ...accessRequestsQueryOptions(client, query), placeholderData: keepPreviousData });
}

/** A decision changes the inbox, "who has access" and the consultant's catalog state. */
function invalidateAfterDecision(queryClient: QueryClient) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: queryRoots.accessRequests }),
    queryClient.invalidateQueries({ queryKey: queryRoots.files }),
  ]);
}

export function useCreateAccessRequest() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ fileId, reason }: { fileId: string; reason: string }) => client.accessRequests.create(fileId, { reason }),
    onSuccess: () => invalidateAfterDecision(queryClient),
  });
}

export function useApproveRequest() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: ApproveBody }) => client.accessRequests.approve(id, body),
    onSuccess: () => invalidateAfterDecision(queryClient),
  });
}

export function useDenyRequest() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: DenyBody }) => client.accessRequests.deny(id, body),
    onSuccess: () => invalidateAfterDecision(queryClient),
  });
}

export function useRevokeRequest() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.accessRequests.revoke(id),
    onSuccess: () => invalidateAfterDecision(queryClient),
  });
}

export interface GrantDownloadVariables {
  requestId: string;
  password: string;
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

/**
 * Consultant download: password in the POST body once, bytes streamed to disk
 * where possible. Deliberately not a useMutation: the mutation cache keeps its
 * variables (here the password) in memory after the call; this keeps it only for
 * the duration of the request.
 */
export function useDownloadGrant() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useCallback(
    async ({ requestId, password, onProgress, signal }: GrantDownloadVariables) => {
      try {
        const download = await client.accessRequests.download(requestId, password, signal ? { signal } : {});
        return await saveDownload(download, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) });
      } finally {
        // Settled, not success: a refused download can change what is left too.
        void Promise.all([
          queryClient.invalidateQueries({ queryKey: queryRoots.accessRequests }),
          queryClient.invalidateQueries({ queryKey: queryRoots.keys }),
          queryClient.invalidateQueries({ queryKey: queryRoots.files }),
        ]);
      }
    },
    [client, queryClient],
  );
}
