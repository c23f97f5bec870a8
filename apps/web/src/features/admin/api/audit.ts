import type { ApiClient } from '@sfe/api-client';
import { saveDownload } from '@sfe/api-client';
import type { AuditListQuery } from '@sfe/contract';
import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export type AuditFilters = Omit<AuditListQuery, 'cursor' | 'limit'>;

export const auditKeys = {
  all: queryRoots.adminAudit,
  list: (filters: AuditFilters) => [...queryRoots.adminAudit, 'list', filters] as const,
  report: (days: number) => [...queryRoots.adminAudit, 'report', days] as const,
};

const PAGE_SIZE = 50;
export const REPORT_DAYS = 30;

/** Newest first; "Load more" follows the API's cursor. */
export const auditLogQueryOptions = (client: ApiClient, filters: AuditFilters) =>
  infiniteQueryOptions({
    queryKey: auditKeys.list(filters),
    queryFn: ({ pageParam, signal }) =>
      client.admin.audit.list({ ...filters, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: '',
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });

export function useAuditLog(filters: AuditFilters) {
  const client = useApiClient();
  return useInfiniteQuery(auditLogQueryOptions(client, filters));
}

export const auditReportQueryOptions = (client: ApiClient, days: number) =>
  queryOptions({
    queryKey: auditKeys.report(days),
    queryFn: ({ signal }) => client.admin.audit.report(days, { signal }),
  });

export function useAuditReport(days = REPORT_DAYS) {
  const client = useApiClient();
  return useQuery(auditReportQueryOptions(client, days));
}

/** The chain check writes its own audit record, so the log is refetched after it. */
export function useVerifyAudit() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.admin.audit.verify(),
    onSettled: () => queryClient.invalidateQueries({ queryKey: auditKeys.all }),
  });
}

/** The report's records as CSV, fetched with the bearer header and saved as a file. */
export function useExportAuditCsv() {
  const client = useApiClient();
  return useMutation({
    mutationFn: async (days: number) => saveDownload(await client.admin.audit.reportCsv(days)),
  });
}
