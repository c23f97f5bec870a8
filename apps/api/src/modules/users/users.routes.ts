import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ChangePasswordBody,
  IdParams,
  MyKeysResponse,
  PublicKeyResponse,
  RotateKeysBody,
  RotateKeysResponse,
} from '@sfe/contract';
import { NoContent, bearer, problems } from '../../lib/route-schemas.ts';
import type { UsersService } from './users.service.ts';

export const usersRoutes: FastifyPluginAsyncTypebox<{ users: UsersService }> = async (app, { users }) => {
  // onRequest: identity is settled before the body is even parsed, so an anonymous caller
  // learns nothing about a route's schema (401, never 400).
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/me/keys',
    { schema: { tags: ['keys'], security: bearer, response: { 200: MyKeysResponse, ...problems(401, 404, 503) } } },
    async (request) => users.myKeys(request.actor),
  );

  app.post(
    '/me/keys/rotate',
    {
      schema: {
        tags: ['keys'],
        security: bearer,
        body: RotateKeysBody,
        response: { 200: RotateKeysResponse, ...problems(400, 401, 409, 429, 503) },
      },
    },
    async (request) => users.rotateKeys(request.actor, request.body),
  );

  app.post(
    '/me/password',
    {
      schema: { tags: ['keys'], security: bearer, body: ChangePasswordBody, response: { 204: NoContent, ...problems(400, 401, 409, 429, 503) } },
    },
    async (request, reply) => {
      await users.changePassword(request.actor, request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:id/public-key',
    { schema: { tags: ['keys'], security: bearer, params: IdParams, response: { 200: PublicKeyResponse, ...problems(401, 404) } } },
    async (request) => users.publicKey(request.params.id),
  );
};
