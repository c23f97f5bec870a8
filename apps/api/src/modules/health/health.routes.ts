import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthResponse, ReadyResponse } from '@sfe/contract';

export interface HealthChecks {
  database: () => Promise<void>;
  keyStore: () => Promise<void>;
  /** Rejects while a key id that wraps data is not configured (the start-up preflight). */
  kek: () => Promise<void>;
}

const within = async (check: () => Promise<void>, ms: number): Promise<'ok' | 'down'> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
};

export const healthRoutes: FastifyPluginAsyncTypebox<{ checks: HealthChecks }> = async (app, { checks }) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: HealthResponse } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: ReadyResponse, 503: ReadyResponse } } },
    async (_request, reply) => {
      const [database, keyStore, kek] = await Promise.all([
        within(checks.database, 2000),
        within(checks.keyStore, 2000),
        within(checks.kek, 2000),
      ]);
      const ok = database === 'ok' && keyStore === 'ok' && kek === 'ok';
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { database, keyStore, kek } });
    },
  );
};
