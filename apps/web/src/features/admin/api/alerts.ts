import type { ApiClient } from '@sfe/api-client';
import type { AlertsQuery } from '@sfe/contract';
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const alertsKeys = {
  all: queryRoots.adminAlerts,
  list: (query: AlertsQuery) => [...queryRoots.adminAlerts, 'list', query] as const,
  openCount: [...queryRoots.adminAlerts, 'open-count'] as const,
};

/** How often the navigation badge asks for the open count. */
export const OPEN_COUNT_POLL_MS = 30_000;
const COUNT_LIMIT = 200;

export const alertsQueryOptions = (client: ApiClient, query: AlertsQuery) =>
  queryOptions({
    queryKey: alertsKeys.list(query),
    queryFn: ({ signal }) => client.admin.alerts.list(query, { signal }),
  });

export function useAlerts(query: AlertsQuery) {
  const client = useApiClient();
  return useQuery({ ...alertsQueryOptions(client, query), placeholderData: keepPreviousData });
}

/** Open alerts, counted up to one page: "200+" beyond that is enough for a badge. */
export const openAlertCountQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: alertsKeys.openCount,
    queryFn: async ({ signal }) => {
      const page = await client.admin.alerts.list({ acknowledged: false, limit: COUNT_LIMIT }, { signal });
      return { count: page.items.length, more: page.nextCursor !== null };
    },
    refetchInterval: OPEN_COUNT_POLL_MS,
  });

export function useOpenAlertCount() {
  const client = useApiClient();
  return useQuery(openAlertCountQueryOptions(client));
}

export function useAcknowledgeAlert() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.admin.alerts.acknowledge(id),
    onSuccess: () =>
      Promise.all([queryRoots.adminAlerts, queryRoots.adminAudit].map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
  });
}
