import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminUser,
  AdminUserList,
  AdminUsersQuery,
  EmptyBody,
  ErasureCertificate,
  GrantsRevokedResponse,
  IdParams,
  IncidentResponse,
  MfaResetResponse,
  PrivateKeyDeletedResponse,
} from '@sfe/contract';
import { bearer, problems } from '../../lib/route-schemas.ts';
import type { AdminUsersService } from './admin-users.service.ts';

/** Admin > Accounts and incidents. Mounted inside the admin scope (admins only). */
export const adminUsersRoutes: FastifyPluginAsyncTypebox<{ admin: AdminUsersService }> = async (app, { admin }) => {
  const tags = ['admin'];
  // Every body here is empty, so "no body" means "{}".
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST') request.body ??= {};
  });

  app.get(
    '/users',
    { schema: { tags, security: bearer, querystring: AdminUsersQuery, response: { 200: AdminUserList, ...problems(400, 401, 403) } } },
    async (request) => admin.list(request.query),
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post(
      `/users/:id/${action}`,
      { schema: { tags, security: bearer, params: IdParams, body: EmptyBody, response: { 200: AdminUser, ...problems(400, 401, 403, 404, 409, 503) } } },
      async (request) => admin[action](request.actor, request.params.id),
    );
  }

  app.post(
    '/users/:id/revoke-grants',
    { schema: { tags, security: bearer, params: IdParams, body: EmptyBody, response: { 200: GrantsRevokedResponse, ...problems(400, 401, 403, 404, 503) } } },
    async (request) => admin.revokeGrants(request.actor, request.params.id),
  );

  app.delete(
    '/users/:id/private-key',
    { schema: { tags, security: bearer, params: IdParams, response: { 200: PrivateKeyDeletedResponse, ...problems(401, 403, 404, 409, 503) } } },
    async (request) => admin.deletePrivateKey(request.actor, request.params.id),
  );

  app.post(
    '/users/:id/incident',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Compromised account: disable, end every session, revoke every grant, delete the private key.',
        params: IdParams,
        body: EmptyBody,
        response: { 200: IncidentResponse, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => admin.incident(request.actor, request.params.id),
  );

  app.post(
    '/users/:id/mfa-reset',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Lost authenticator: removes every second factor and recovery code of the account and ends its sessions.',
        params: IdParams,
        body: EmptyBody,
        response: { 200: MfaResetResponse, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => admin.mfaReset(request.actor, request.params.id),
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Right to erasure; answers a certificate signed with the audit key (GET /api/v1/audit/public-key).',
        params: IdParams,
        response: { 200: ErasureCertificate, ...problems(401, 403, 404, 409, 503) },
      },
    },
    async (request) => admin.erase(request.actor, request.params.id),
  );
};
