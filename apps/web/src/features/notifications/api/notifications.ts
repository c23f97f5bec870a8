import type { ApiClient } from '@sfe/api-client';
import type { NotificationSettingsBody, NotificationsQuery } from '@sfe/contract';
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { queryRoots } from '../../../lib/query-keys.ts';

export const notificationsKeys = {
  all: queryRoots.notifications,
  list: (query: NotificationsQuery) => [...queryRoots.notifications, 'list', query] as const,
  unread: [...queryRoots.notifications, 'unread-count'] as const,
  settings: queryRoots.notificationSettings,
};

/** How often the navigation badge asks for the unread count. */
export const UNREAD_POLL_MS = 15_000;

export const notificationsQueryOptions = (client: ApiClient, query: NotificationsQuery) =>
  queryOptions({
    queryKey: notificationsKeys.list(query),
    queryFn: ({ signal }) => client.notifications.list(query, { signal }),
  });

export function useNotifications(query: NotificationsQuery) {
  const client = useApiClient();
  return useQuery({ ...notificationsQueryOptions(client, query), placeholderData: keepPreviousData });
}

export const unreadCountQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: notificationsKeys.unread,
    queryFn: ({ signal }) => client.notifications.unreadCount({ signal }),
    refetchInterval: UNREAD_POLL_MS,
  });

export function useUnreadCount() {
  const client = useApiClient();
  return useQuery(unreadCountQueryOptions(client));
}

export function useMarkRead() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.notifications.read(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: notificationsKeys.all }),
  });
}

export function useMarkAllRead() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.notifications.readAll(),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: notificationsKeys.all }),
  });
}

export const notificationSettingsQueryOptions = (client: ApiClient) =>
  queryOptions({
    queryKey: notificationsKeys.settings,
    queryFn: ({ signal }) => client.notifications.settings({ signal }),
  });

export function useNotificationSettings() {
  const client = useApiClient();
  return useQuery(notificationSettingsQueryOptions(client));
}

export function useSaveNotificationSettings() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NotificationSettingsBody) => client.notifications.saveSettings(body),
    onSuccess: (settings) => queryClient.setQueryData(notificationsKeys.settings, settings),
  });
}

export function useVerifyEmail() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: string) => client.notifications.verifyEmail(token),
    // The variables hold the token: drop the mutation as soon as nothing observes it.
    gcTime: 0,
    onSuccess: (settings) => queryClient.setQueryData(notificationsKeys.settings, settings),
  });
}
