import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KeyStoreUnavailableError } from '../stores/keystore/index.ts';

export interface Metrics {
  readonly registry: Registry;
  readonly cryptoOperations: Counter<'operation' | 'success'>;
  readonly failedLogins: Counter;
  readonly keyStoreErrors: Counter;
  readonly lockouts: Counter;
  readonly alertsRaised: Counter<'rule'>;
  readonly kekUses: Counter<'key_id' | 'operation'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sfe_' });
  return {
    registry,
    cryptoOperations: new Counter({
      name: 'sfe_crypto_operations_total',
      help: 'Audited cryptographic and access operations',
      labelNames: ['operation', 'success'],
      registers: [registry],
    }),
    failedLogins: new Counter({ name: 'sfe_failed_logins_total', help: 'Failed sign-in attempts', registers: [registry] }),
    keyStoreErrors: new Counter({
      name: 'sfe_key_store_errors_total',
      help: 'Requests that failed because the key store was unavailable',
      registers: [registry],
    }),
    lockouts: new Counter({ name: 'sfe_account_lockouts_total', help: 'Accounts locked after repeated failed sign-ins', registers: [registry] }),
    alertsRaised: new Counter({ name: 'sfe_alerts_raised_total', help: 'Alerts raised, by rule', labelNames: ['rule'], registers: [registry] }),
    kekUses: new Counter({
      name: 'sfe_kek_uses_total',
      help: 'DEK wraps and unwraps under a KEK, by key id (a non-secret fingerprint)',
      labelNames: ['key_id', 'operation'],
      registers: [registry],
    }),
  };
}

/** Request counts and latency by route pattern (never by raw URL: ids would explode the label set). */
async function metricsPlugin(app: FastifyInstance, options: { metrics: Metrics; onKeyStoreError?: () => Promise<void> }) {
  const { registry } = options.metrics;
  const requests = new Counter({
    name: 'sfe_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sfe_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  app.addHook('onError', async (_request, _reply, error) => {
    if (error instanceof KeyStoreUnavailableError) {
      options.metrics.keyStoreErrors.inc();
      await options.onKeyStoreError?.();
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

export default fp(metricsPlugin, { name: 'sfe-metrics' });
