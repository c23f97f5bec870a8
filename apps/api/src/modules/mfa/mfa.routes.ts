import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EmptyBody,
  IdParams,
  MfaStatus,
  MfaTokenBody,
  MfaVerifyBody,
  Passkey,
  PasskeyAuthenticationOptions,
  PasskeyRegisterBody,
  PasskeyRegistrationOptions,
  PasswordBody,
  RecoveryCodesResponse,
  TokenResponse,
  TotpConfirmBody,
  TotpEnrolment,
} from '@sfe/contract';
import { NoContent, bearer, problems } from '../../lib/route-schemas.ts';
import type { AuthService } from '../auth/auth.service.ts';
import type { MfaService } from './mfa.service.ts';

const tags = ['mfa'];

/** The account's own second factors, under /users/me/mfa. */
export const mfaRoutes: FastifyPluginAsyncTypebox<{ mfa: MfaService }> = async (app, { mfa }) => {
  app.addHook('onRequest', app.authenticate);
  // Bodies that carry nothing may be left out: "no body" means "{}".
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST') request.body ??= {};
  });
  // Enrolment answers carry a secret or recovery codes: no cache keeps them.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get('', { schema: { tags, security: bearer, response: { 200: MfaStatus, ...problems(401) } } }, async (request) => mfa.status(request.actor));

  app.post(
    '/totp',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Starts an authenticator-app set-up; pending until confirmed with a code.',
        body: EmptyBody,
        response: { 200: TotpEnrolment, ...problems(400, 401, 409, 503) },
      },
    },
    async (request) => mfa.startTotp(request.actor),
  );

  app.post(
    '/totp/confirm',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Confirms the pending authenticator app; answers 10 single-use recovery codes, shown only here.',
        body: TotpConfirmBody,
        response: { 200: RecoveryCodesResponse, ...problems(400, 401, 409, 503) },
      },
    },
    async (request) => mfa.confirmTotp(request.actor, request.body.code),
  );

  app.delete(
    '/totp',
    { schema: { tags, security: bearer, body: PasswordBody, response: { 204: NoContent, ...problems(400, 401, 404, 429) } } },
    async (request, reply) => {
      await mfa.removeTotp(request.actor, request.body.password);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webauthn/options',
    { schema: { tags, security: bearer, body: EmptyBody, response: { 200: PasskeyRegistrationOptions, ...problems(400, 401) } } },
    async (request) => mfa.passkeyRegistrationOptions(request.actor),
  );

  app.post(
    '/webauthn',
    { schema: { tags, security: bearer, body: PasskeyRegisterBody, response: { 201: Passkey, ...problems(400, 401, 409) } } },
    async (request, reply) => reply.code(201).send(await mfa.registerPasskey(request.actor, request.body)),
  );

  app.delete(
    '/webauthn/:id',
    { schema: { tags, security: bearer, params: IdParams, body: PasswordBody, response: { 204: NoContent, ...problems(400, 401, 404, 429) } } },
    async (request, reply) => {
      await mfa.removePasskey(request.actor, request.params.id, request.body.password);
      return reply.code(204).send(null);
    },
  );
};

/** The second sign-in step, under /auth (no access token: the mfaToken is the credential). */
export const authMfaRoutes: FastifyPluginAsyncTypebox<{ mfa: MfaService; auth: AuthService }> = async (app, { mfa, auth }) => {
  const rateLimit = { max: 30, timeWindow: '1 minute' };
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  app.post(
    '/mfa',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        description: 'Completes a sign-in that answered mfaRequired, with exactly one of code, recoveryCode, webauthn.',
        body: MfaVerifyBody,
        response: { 200: TokenResponse, ...problems(400, 401, 429, 503) },
      },
    },
    async (request) => auth.completeMfa(request.body, request.ip),
  );
  app.post(
    '/mfa/webauthn/options',
    {
      config: { rateLimit },
      schema: { tags: ['auth'], body: MfaTokenBody, response: { 200: PasskeyAuthenticationOptions, ...problems(400, 401, 429) } },
    },
    async (request) => mfa.passkeyAssertionOptions(request.body.mfaToken),
  );
};

