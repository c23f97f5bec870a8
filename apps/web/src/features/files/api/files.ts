import type { ApiClient, UploadOptions } from '@sfe/api-client';
import { saveDownload } from '@sfe/api-client';
import type { ListFilesQuery, UploadFields } from '@sfe/contract';
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const filesKeys = {
  all: queryRoots.files,
  list: (query: ListFilesQuery) => [...queryRoots.files, 'list', query] as const,
  detail: (id: string) => [...queryRoots.files, 'detail', id] as const,
};

export const getFiles = (client: ApiClient, query: ListFilesQuery, signal?: AbortSignal) =>
  client.files.list(query, { signal });

export const filesQueryOptions = (client: ApiClient, query: ListFilesQuery) =>
  queryOptions({
    queryKey: filesKeys.list(query),
    queryFn: ({ signal }) => getFiles(client, query, signal),
  });

export function useFiles(query: ListFilesQuery) {
  const client = useApiClient();
  return useQuery({ ...filesQueryOptions(client, query), placeholderData: keepPreviousData });
}

export const fileQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: filesKeys.detail(id),
    queryFn: ({ signal }) => client.files.get(id, { signal }),
  });

export function useFile(id: string) {
  const client = useApiClient();
  return useQuery(fileQueryOptions(client, id));
}

export interface UploadVariables {
  file: File;
  fields: UploadFields;
  options: UploadOptions;
}

export function useUploadFile() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ file, fields, options }: UploadVariables) => client.files.upload(file, fields, options),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: filesKeys.all }),
  });
}

export function useDeleteFile() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.files.delete(id),
    onSuccess: async (_void, id) => {
      queryClient.removeQueries({ queryKey: filesKeys.detail(id) });
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: filesKeys.all }),
        queryClient.invalidateQueries({ queryKey: queryRoots.accessRequests }),
      ]);
    },
  });
}

/** Owner download, streamed to disk where the browser allows it. */
export function useDownloadOwnFile() {
  const client = useApiClient();
  return useMutation({
    mutationFn: async ({ id, onProgress }: { id: string; onProgress?: UploadOptions['onProgress'] }) => {
      const download = await client.files.download(id);
      return saveDownload(download, onProgress ? { onProgress } : {});
    },
  });
}
