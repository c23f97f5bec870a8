import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { LoginBody, MfaChallengeResponse, RefreshBody, RegisterBody, TokenResponse, UserResponse } from '@sfe/contract';
import { NoContent, bearer, problems } from '../../lib/route-schemas.ts';
import { accountDto } from '../users/users.presenter.ts';
import type { AuthService } from './auth.service.ts';

/** Register, login and refresh each allow 30 requests per minute per client IP (docs/api.md). */
const authRateLimit = { max: 30, timeWindow: '1 minute' };

export const authRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (app, { auth }) => {
  // Answers here carry tokens (or say whether credentials were right): no cache keeps them.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  app.post(
    '/register',
    {
      config: { rateLimit: authRateLimit },
      schema: { tags: ['auth'], body: RegisterBody, response: { 201: UserResponse, ...problems(400, 409, 429, 503) } },
    },
    async (request, reply) => reply.code(201).send({ user: await auth.register(request.body, request.ip) }),
  );

  app.post(
    '/login',
    {
      config: { rateLimit: authRateLimit },
      schema: {
        tags: ['auth'],
        description: 'Tokens, or (for an account with a second factor) an mfaToken for POST /auth/mfa.',
        body: LoginBody,
        response: { 200: Type.Union([TokenResponse, MfaChallengeResponse]), ...problems(400, 401, 403, 429) },
      },
    },
    async (request) => auth.login(request.body, request.ip),
  );

  app.post(
    '/refresh',
    {
      config: { rateLimit: authRateLimit },
      schema: { tags: ['auth'], body: RefreshBody, response: { 200: TokenResponse, ...problems(400, 401, 429) } },
    },
    async (request) => auth.refresh(request.body.refreshToken, request.ip),
  );

  app.post(
    '/logout',
    { schema: { tags: ['auth'], body: RefreshBody, response: { 204: NoContent, ...problems(400) } } },
    async (request, reply) => {
      await auth.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      onRequest: app.authenticate,
      schema: { tags: ['auth'], security: bearer, response: { 200: UserResponse, ...problems(401) } },
    },
    // The authentication check has just read the account: answered from that row.
    async (request) => ({ user: accountDto(request.account) }),
  );
};
