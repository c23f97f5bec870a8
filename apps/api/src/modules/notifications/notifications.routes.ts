import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EmptyBody,
  IdParams,
  Notification,
  NotificationList,
  NotificationSettings,
  NotificationSettingsBody,
  NotificationsQuery,
  ReadAllResponse,
  UnreadCount,
  VerifyEmailBody,
} from '@sfe/contract';
import { bearer, problems } from '../../lib/route-schemas.ts';
import type { NotificationsService } from './notifications.service.ts';

const tags = ['notifications'];

export const notificationsRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationsService }> = async (app, { notifications }) => {
  // onRequest: identity is settled before the body is parsed (401, never 400).
  app.addHook('onRequest', app.authenticate);
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST') request.body ??= {};
  });

  app.get(
    '',
    {
      schema: {
        tags,
        security: bearer,
        description: "The caller's own notifications, newest first; `unread` is the caller's unread total.",
        querystring: NotificationsQuery,
        response: { 200: NotificationList, ...problems(400, 401) },
      },
    },
    async (request) => notifications.list(request.actor, request.query),
  );

  app.get(
    '/unread-count',
    { schema: { tags, security: bearer, response: { 200: UnreadCount, ...problems(401) } } },
    async (request) => notifications.unreadCount(request.actor),
  );

  app.post(
    '/read-all',
    { schema: { tags, security: bearer, body: EmptyBody, response: { 200: ReadAllResponse, ...problems(400, 401) } } },
    async (request) => notifications.readAll(request.actor),
  );

  app.post(
    '/:id/read',
    {
      schema: {
        tags,
        security: bearer,
        description: "Marks one of the caller's notifications read; anyone else's answers 404.",
        params: IdParams,
        body: EmptyBody,
        response: { 200: Notification, ...problems(400, 401, 404) },
      },
    },
    async (request) => notifications.read(request.actor, request.params.id),
  );
};

export const notificationSettingsRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationsService }> = async (app, { notifications }) => {
  app.addHook('onRequest', app.authenticate);

  app.get(
    '',
    { schema: { tags, security: bearer, response: { 200: NotificationSettings, ...problems(401) } } },
    async (request) => notifications.settings(request.actor),
  );

  app.put(
    '',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Sets the email address and the kinds that are also emailed. A new address is unverified until the link emailed to it is opened.',
        body: NotificationSettingsBody,
        response: { 200: NotificationSettings, ...problems(400, 401) },
      },
    },
    async (request) => notifications.saveSettings(request.actor, request.body),
  );

  app.post(
    '/verify',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Confirms the address with the token from the emailed link (single use, expires after 24 hours).',
        body: VerifyEmailBody,
        response: { 200: NotificationSettings, ...problems(400, 401) },
      },
    },
    async (request) => notifications.verify(request.actor, request.body.token),
  );
};
