import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Alert, AlertList, AlertsQuery, EmptyBody, IdParams } from '@sfe/contract';
import { bearer, problems } from '../../lib/route-schemas.ts';
import type { AlertsService } from './alerts.service.ts';

/** Admin > Alerts. Mounted inside the admin scope (admins only). */
export const adminAlertsRoutes: FastifyPluginAsyncTypebox<{ alerts: AlertsService }> = async (app, { alerts }) => {
  const tags = ['alerts'];
  app.get(
    '/alerts',
    { schema: { tags, security: bearer, querystring: AlertsQuery, response: { 200: AlertList, ...problems(400, 401, 403) } } },
    async (request) => alerts.list(request.actor, request.query),
  );
  app.post(
    '/alerts/:id/ack',
    {
      schema: { tags, security: bearer, params: IdParams, body: EmptyBody, response: { 200: Alert, ...problems(400, 401, 403, 404) } },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => alerts.acknowledge(request.actor, request.params.id),
  );
};
