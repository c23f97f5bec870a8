import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccessRequest,
  AccessRequestList,
  ApproveBody,
  CreateAccessRequestBody,
  DenyBody,
  DownloadBody,
  EmptyBody,
  IdParams,
  ListAccessRequestsQuery,
} from '@sfe/contract';
import { requestedRange, sendPlaintext } from '../../lib/send-file.ts';
import { bearer, octetStream, problems } from '../../lib/route-schemas.ts';
import type { AccessRequestsService } from './access-requests.service.ts';

export const fileAccessRequestRoutes: FastifyPluginAsyncTypebox<{ requests: AccessRequestsService }> = async (
  app,
  { requests },
) => {
  app.post(
    '/:id/access-requests',
    {
      onRequest: [app.authenticate, app.requireRole('consultant')],
      schema: {
        tags: ['access-requests'],
        security: bearer,
        params: IdParams,
        body: CreateAccessRequestBody,
        response: { 201: AccessRequest, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await requests.create(request.actor, request.params.id, request.body.reason)),
  );
};

export const accessRequestRoutes: FastifyPluginAsyncTypebox<{ requests: AccessRequestsService }> = async (
  app,
  { requests },
) => {
  // onRequest: identity is settled before the body is even parsed, so an anonymous caller
  // learns nothing about a route's schema (401, never 400).
  app.addHook('onRequest', app.authenticate);
  // Every body field of approve/deny/revoke is optional, so "no body" means "{}".
  app.addHook('preValidation', async (request) => {
    request.body ??= {};
  });
  const tags = ['access-requests'];

  app.get(
    '',
    { schema: { tags, security: bearer, querystring: ListAccessRequestsQuery, response: { 200: AccessRequestList, ...problems(400, 401) } } },
    async (request) => requests.list(request.actor, request.query),
  );

  app.post(
    '/:id/approve',
    {
      schema: {
        tags,
        security: bearer,
        params: IdParams,
        body: ApproveBody,
        response: { 200: AccessRequest, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => requests.approve(request.actor, request.params.id, request.body),
  );

  app.post(
    '/:id/deny',
    {
      schema: { tags, security: bearer, params: IdParams, body: DenyBody, response: { 200: AccessRequest, ...problems(400, 401, 403, 404, 409) } },
    },
    async (request) => requests.deny(request.actor, request.params.id, request.body.reason),
  );

  app.post(
    '/:id/revoke',
    {
      schema: { tags, security: bearer, params: IdParams, body: EmptyBody, response: { 200: AccessRequest, ...problems(401, 403, 404, 409) } },
    },
    async (request) => requests.revoke(request.actor, request.params.id),
  );

  app.post(
    '/:id/download',
    {
      schema: {
        tags,
        security: bearer,
        description: 'The consultant downloads with the password that unlocks their private key (sent in the body, never in a URL).',
        params: IdParams,
        body: DownloadBody,
        response: {
          200: octetStream('The decrypted file'),
          206: octetStream('The requested byte range'),
          ...problems(400, 401, 403, 404, 409, 416, 503),
        },
      },
    },
    async (request, reply) => {
      const download = await requests.download(request.actor, request.params.id, request.body.password, (size) =>
        requestedRange(request.headers.range, size),
      );
      // A download counts once its last byte went out; an abort or a failure gives it back.
      const settle = (delivered: boolean) =>
        void download.settle(delivered).catch((error: unknown) => request.log.error({ err: error }, 'could not settle a download'));
      reply.raw.once('finish', () => settle(true));
      reply.raw.once('close', () => settle(false));
      return sendPlaintext(reply, download.file, download.stream, download.range);
    },
  );
};
