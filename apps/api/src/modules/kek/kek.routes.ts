import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EmptyBody, KekStatus, KekVerifyBody, KekVerifyReport, Rotation, RotationParams } from '@sfe/contract';
import { bearer, problems } from '../../lib/route-schemas.ts';
import type { RotationRunner } from './kek.runner.ts';
import type { KekService } from './kek.service.ts';

/** Admin > Master key (docs/api.md). */
export const kekRoutes: FastifyPluginAsyncTypebox<{ kek: KekService; rotations: RotationRunner }> = async (app, { kek, rotations }) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('onRequest', app.requireRole('admin'));
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST') request.body ??= {};
  });
  const tags = ['admin'];

  app.get(
    '',
    { schema: { tags, security: bearer, response: { 200: KekStatus, ...problems(401, 403) } } },
    async () => kek.status(),
  );

  app.post(
    '/rotate',
    { schema: { tags, security: bearer, body: EmptyBody, response: { 202: Rotation, ...problems(401, 403, 409, 503) } } },
    async (request, reply) => reply.code(202).send(await rotations.start(request.actor)),
  );

  app.post(
    '/verify',
    { schema: { tags, security: bearer, body: KekVerifyBody, response: { 200: KekVerifyReport, ...problems(400, 401, 403) } } },
    async (request) => kek.verify({ deep: request.body.deep === true }),
  );

  app.get(
    '/rotations/:id',
    { schema: { tags, security: bearer, params: RotationParams, response: { 200: Rotation, ...problems(400, 401, 403, 404) } } },
    async (request) => kek.rotation(request.params.id),
  );
};
