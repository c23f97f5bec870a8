import type {
  Notification,
  NotificationList,
  NotificationSettings,
  NotificationSettingsBody,
  NotificationsQuery,
  ReadAllResponse,
  UnreadCount,
} from '@sfe/contract';
import { segment, type Transport } from './http.ts';

interface RequestOptions {
  signal?: AbortSignal;
}

/** The caller's notifications and their email settings (docs/api.md Notifications). */
export function notificationsClient(t: Transport) {
  return {
    list: (query: NotificationsQuery = {}, o: RequestOptions = {}) =>
      t.json<NotificationList>({ method: 'GET', path: '/notifications', query: { ...query }, signal: o.signal }),
    unreadCount: (o: RequestOptions = {}) => t.json<UnreadCount>({ method: 'GET', path: '/notifications/unread-count', signal: o.signal }),
    read: (id: string, o: RequestOptions = {}) =>
      t.json<Notification>({ method: 'POST', path: `/notifications/${segment(id)}/read`, json: {}, signal: o.signal }),
    readAll: (o: RequestOptions = {}) => t.json<ReadAllResponse>({ method: 'POST', path: '/notifications/read-all', json: {}, signal: o.signal }),
    settings: (o: RequestOptions = {}) =>
      t.json<NotificationSettings>({ method: 'GET', path: '/users/me/notification-settings', signal: o.signal }),
    saveSettings: (body: NotificationSettingsBody, o: RequestOptions = {}) =>
      t.json<NotificationSettings>({ method: 'PUT', path: '/users/me/notification-settings', json: body, signal: o.signal }),
    verifyEmail: (token: string, o: RequestOptions = {}) =>
      t.json<NotificationSettings>({ method: 'POST', path: '/users/me/notification-settings/verify', json: { token }, signal: o.signal }),
  };
}
