import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AuditList, AuditListQuery, AuditPublicKey, AuditPurgeResult, AuditReport, AuditReportQuery, AuditVerifyResult } from '@sfe/contract';
import { bearer, problems } from '../../lib/route-schemas.ts';
import { sendCsv } from '../../lib/send-file.ts';
import type { RetentionService } from '../retention/retention.service.ts';
import type { AuditAdminService } from './audit-admin.service.ts';

const PurgeBody = Type.Object({ dryRun: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });

/** Admin > Audit. Mounted inside the admin scope (admins only). */
export const adminAuditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditAdminService; retention: RetentionService }> = async (
  app,
  { audit, retention },
) => {
  const tags = ['audit'];

  app.get(
    '/audit',
    { schema: { tags, security: bearer, querystring: AuditListQuery, response: { 200: AuditList, ...problems(400, 401, 403) } } },
    async (request) => audit.list(request.query),
  );

  app.get(
    '/audit/report',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Totals by operation; `format=csv` streams the period\'s records as text/csv instead.',
        querystring: AuditReportQuery,
        response: {
          200: { description: 'The report (JSON) or its records (CSV)', content: { 'application/json': { schema: AuditReport }, 'text/csv': { schema: Type.String() } } },
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const days = request.query.days ?? 30;
      if (request.query.format === 'csv') {
        return sendCsv(reply, `audit-${days}d.csv`, audit.reportCsv(days));
      }
      return reply.type('application/json; charset=utf-8').send(await audit.report(days));
    },
  );

  app.get(
    '/audit/verify',
    { schema: { tags, security: bearer, response: { 200: AuditVerifyResult, ...problems(401, 403) } } },
    async (request) => audit.verify(request.actor),
  );

  app.post(
    '/audit/purge',
    {
      schema: {
        tags,
        security: bearer,
        description: 'Removes what is past its retention period now (also run on a schedule); dryRun only counts.',
        body: PurgeBody,
        response: { 200: AuditPurgeResult, ...problems(400, 401, 403, 409) },
      },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => retention.purge(request.actor, { dryRun: request.body.dryRun ?? false }),
  );
};

/** The audit signing public key: anyone may check checkpoints and erasure certificates offline. */
export const auditPublicKeyRoutes: FastifyPluginAsyncTypebox<{ audit: AuditAdminService }> = async (app, { audit }) => {
  app.get('/public-key', { schema: { tags: ['audit'], response: { 200: AuditPublicKey } } }, async () => audit.publicKey());
};
