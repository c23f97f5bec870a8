import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmetMiddleware from 'helmet';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { API_PREFIX } from '@sfe/contract';
import type { Config } from './config.ts';
import { createContainer, type Container, type ContainerOverrides } from './container.ts';
import type { AuditEvent } from './modules/audit/audit.operations.ts';
import { AppError, PreflightError } from './lib/errors.ts';
import { REPO_ROOT } from './db/repo-root.ts';
import authPlugin from './plugins/auth.ts';
import docsPlugin from './plugins/docs.ts';
import errorsPlugin, { sendProblem } from './plugins/errors.ts';
import metricsPlugin, { createMetrics, type Metrics } from './plugins/metrics.ts';
import { adminUsersRoutes } from './modules/admin/admin.routes.ts';
import { adminAlertsRoutes } from './modules/alerts/alerts.routes.ts';
import { adminAuditRoutes, auditPublicKeyRoutes } from './modules/audit/audit.routes.ts';
import { accessRequestRoutes, fileAccessRequestRoutes } from './modules/access-requests/access-requests.routes.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { filesRoutes } from './modules/files/files.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { kekRoutes } from './modules/kek/kek.routes.ts';
import { createRotationRunner } from './modules/kek/kek.runner.ts';
import { authMfaRoutes, mfaRoutes } from './modules/mfa/mfa.routes.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { notificationSettingsRoutes, notificationsRoutes } from './modules/notifications/notifications.routes.ts';
import { logRequestInfo, requestLoggerFactory } from './lib/request-logger.ts';

export const DEFAULT_WEB_DIST = path.join(REPO_ROOT, 'apps/web/dist');

/** Fields redacted in a log line, at its top level and one level down (`{ body: { password } }`). */
const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'refreshToken',
  'accessToken',
  'masterKey',
  'masterKeyPrevious',
  'jwtSecret',
  'pin',
  'secretAccessKey',
  'sessionToken',
  'mfaToken',
  'recoveryCode',
];
const REDACT = [
  // Any logged headers: the request's (req.headers) and those plugins log under their
  // own keys (multipart: busboyOptions.headers).
  '*.headers.authorization',
  '*.headers.cookie',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
];

/** helmet's configuration: one set of security headers for every response, routable or not. */
export const HELMET = {
  contentSecurityPolicy: {
    // No upgrade-insecure-requests: behind plain HTTP on a LAN it would break every asset;
    // TLS belongs to the reverse proxy, which can add it.
    directives: { 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"], 'upgrade-insecure-requests': null },
  },
};

/**
 * helmet's headers, worked out once. With this configuration (no nonces) they are the
 * same for every response, so helmet runs once, at start-up, against a response that
 * records them, and each request copies the result: running helmet per request (a dozen
 * validated `setHeader` calls through a chain of middlewares) cost a fifth of a small
 * JSON request's CPU.
 */
function securityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmetMiddleware(HELMET)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure !== undefined) throw failure;
  if (Object.keys(headers).length === 0) throw new Error('helmet set no headers');
  return Object.freeze(headers);
}
const SECURITY_HEADERS = securityHeaders();

/**
 * Bodies are validated as sent: no type coercion ({"keySize":"4096"} is a string, not a
 * number). Query strings and path parameters are text by nature, so they alone are
 * coerced into the integers and booleans their schemas ask for.
 */
function createValidators() {
  const make = (coerceTypes: false | 'array') => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
    addFormats.default(ajv);
    return ajv;
  };
  const body = make(false);
  const text = make('array');
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : text).compile(schema);
}

/** Request lines are logged without their query string: a query may carry what no log should keep. */
const logSerializers = {
  req(request: FastifyRequest) {
    return { method: request.method, url: request.url.split('?')[0], hostname: request.hostname, remoteAddress: request.ip };
  },
};

/**
 * One access line per request, written when it completes, with the request line, the
 * status and the time taken. Fastify's default also writes a line on arrival: twice the
 * log volume, and at `info` the two lines cost more CPU than a small JSON request's own
 * work. Errors and everything else Fastify logs are unchanged.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    // The same JSON a request child writes, without building one (request-logger.ts).
    else logRequestInfo(reply.log, { req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export interface BuildOptions {
  /** Where log lines go (tests read them); the process's stdout by default. */
  logStream?: Writable;
  /** Tests only: stores to use instead of the real ones (e.g. a failing audit store). */
  overrides?: ContainerOverrides;
}

/**
 * Builds the whole app on a config; never listens. Applies pending migrations first:
 * the schema engine needs the SQLite file before the app's client opens it.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const metrics = createMetrics();
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: logSerializers,
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    logController: new AccessLog(),
    childLoggerFactory: requestLoggerFactory,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // A client that stops sending (or reading) loses its connection; a stalled upload
    // then fails like an aborted one and leaves no partial blob.
    connectionTimeout: config.idleTimeoutMs,
    keepAliveTimeout: 5_000,
    // A URL that cannot be decoded never reaches routing (nor helmet's hook): answer it
    // here with the same headers and the same problem shape as everything else.
    frameworkErrors: (_error, request, reply) => {
      reply.headers(SECURITY_HEADERS);
      sendProblem(reply, 400, 'VALIDATION_FAILED', 'The request URL is not valid.');
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidators());
  const container = await createContainer(config, {
    log: app.log,
    signAccessToken: (claims) => app.signAccessToken(claims),
    onAudit: (event) => countAudit(metrics, event),
    onAlert: (alert) => metrics.alertsRaised.inc({ rule: alert.rule }),
  }, options.overrides ?? {});
  const kekState = await preflightKek(container, config);
  const rotations = createRotationRunner({ kek: container.services.kek, log: app.log });
  app.addHook('onClose', async () => {
    await rotations.stop();
    await container.close();
  });

  await app.register(errorsPlugin);
  // An empty JSON body reads as "no body" (routes whose fields are all optional accept it)
  // rather than failing to parse; anything else goes to Fastify's own safe parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    return parseJson(request, text, done);
  });
  // JSON routes take JSON only: a text/plain body is refused (415), never parsed.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
  if (config.corsOrigin) {
    // Only for a SPA served from another origin; the bundled SPA is same-origin. Bearer
    // tokens, not cookies, so credentials stay off.
    await app.register(cors, {
      origin: config.corsOrigin.split(',').map((origin) => origin.trim()),
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'range'],
      exposedHeaders: ['content-disposition', 'content-length', 'content-range', 'retry-after'],
      maxAge: 600,
    });
  }
  await app.register(rateLimit, {
    global: false,
    store: container.rateLimitStore,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'RATE_LIMITED', `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
        'retry-after': String(Math.ceil(context.ttl / 1000)),
      }),
  });
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, fieldSize: 8 * 1024, parts: 12, headerPairs: 100 },
    // The file part's buffer: at the 16 KiB default every 64 KiB socket chunk filled it,
    // so the parser paused and resumed the request once per chunk. 1 MiB per upload is
    // still constant memory.
    fileHwm: 1024 * 1024,
  });
  const { alerts, adminUsers, auditAdmin, retention } = container.services;
  await app.register(metricsPlugin, { metrics, onKeyStoreError: () => alerts.onKeyStoreUnavailable() });
  // unauthorized_access: repeated refusals to one client are probing. Sign-in failures
  // have their own rule (failed_logins), so auth/* is not counted here.
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    if ((status === 401 || status === 403 || status === 404) && request.url.startsWith(`${API_PREFIX}/`) && !request.url.startsWith(`${API_PREFIX}/auth/`)) {
      await alerts.onDenied(request.ip, request.actor?.id ?? null);
    }
  });
  await app.register(docsPlugin);
  await app.register(authPlugin, {
    secret: config.jwtSecret,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    sessions: container.repositories.sessions,
    mfaRequired: (role) => container.services.mfa.isRequired(role),
  });

  const { auth, users, files, requests } = container.services;
  await app.register(healthRoutes, { checks: { ...container.health, kek: kekState.check } });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { prefix: '/auth', auth });
      await api.register(authMfaRoutes, { prefix: '/auth', auth, mfa: container.services.mfa });
      await api.register(usersRoutes, { prefix: '/users', users });
      await api.register(notificationsRoutes, { prefix: '/notifications', notifications: container.services.notifications });
      await api.register(notificationSettingsRoutes, { prefix: '/users/me/notification-settings', notifications: container.services.notifications });
      await api.register(mfaRoutes, { prefix: '/users/me/mfa', mfa: container.services.mfa });
      await api.register(filesRoutes, { prefix: '/files', files });
      await api.register(fileAccessRequestRoutes, { prefix: '/files', requests });
      await api.register(accessRequestRoutes, { prefix: '/access-requests', requests });
      await api.register(kekRoutes, { prefix: '/admin/kek', kek: container.services.kek, rotations });
      await api.register(auditPublicKeyRoutes, { prefix: '/audit', audit: auditAdmin });
      await api.register(
        async (admin) => {
          // onRequest: identity and role are settled before the body is parsed (401/403, never 400).
          admin.addHook('onRequest', app.authenticate);
          admin.addHook('onRequest', app.requireRole('admin'));
          await admin.register(adminUsersRoutes, { admin: adminUsers });
          await admin.register(adminAuditRoutes, { audit: auditAdmin, retention });
          await admin.register(adminAlertsRoutes, { alerts });
        },
        { prefix: '/admin' },
      );
    },
    { prefix: API_PREFIX },
  );

  const webDist = config.webDist ?? DEFAULT_WEB_DIST;
  if (existsSync(path.join(webDist, 'index.html'))) await registerSpa(app, webDist);

  // A crash mid-upload leaves a partial blob (and at worst a committed blob without its
  // row): remove both before serving. With SQLite the app runs on one node, so
  // everything older than this start is an orphan; shared object storage will need a
  // staleness rule instead.
  const swept = await container.sweepBlobs(new Date());
  if (swept.removedPartials + swept.removedOrphans > 0) app.log.warn(swept, 'removed blobs left by an interrupted upload');
  for (const warning of config.warnings) app.log.warn(warning);
  if (kekState.message) app.log.error(kekState.message);
  scheduleRetention(app, config, () => retention.scheduled());
  scheduleNotificationJobs(app, config, container);
  return app;
}

/**
 * The expiry notices and the email sender on in-process timers; leases inside make one
 * replica do each. A run never overlaps the previous one, and no request awaits them.
 */
function scheduleNotificationJobs(app: FastifyInstance, config: Config, container: Container) {
  const every = (ms: number, name: string, run: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      run()
        .catch((error: unknown) => app.log.error({ err: error }, `${name} failed`))
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  };
  const { expiry, emailSender } = container.jobs;
  if (config.notifications.expiryCheckSeconds > 0) every(config.notifications.expiryCheckSeconds * 1000, 'grant expiry notices', () => expiry.run());
  if (emailSender) every(config.notifications.sendIntervalMs, 'email sender', () => emailSender.run());
}

/** The retention purge on an in-process timer; the lease inside makes one replica do it. */
function scheduleRetention(app: FastifyInstance, config: Config, run: () => Promise<unknown>) {
  const minutes = config.retention.purgeIntervalMinutes;
  if (minutes === 0) return;
  const timer = setInterval(() => {
    run().catch((error: unknown) => app.log.error({ err: error }, 'scheduled retention purge failed'));
  }, minutes * 60_000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

const KEK_OPERATIONS = new Set(['key_wrapped', 'key_unwrapped', 'file_encrypted', 'dek_rewrapped']);

function countAudit(metrics: Metrics, event: AuditEvent) {
  metrics.cryptoOperations.inc({ operation: event.operation, success: String(event.success) });
  // Counted from the audit event: every sign-in refusal (unknown name, wrong password,
  // disabled account) records one, and nothing else does.
  if (event.operation === 'login_failed') metrics.failedLogins.inc();
  if (event.operation === 'account_locked') metrics.lockouts.inc();
  const keyId = event.details?.keyId;
  if (typeof keyId === 'string' && KEK_OPERATIONS.has(event.operation)) metrics.kekUses.inc({ key_id: keyId, operation: event.operation });
}

/**
 * Start-up preflight: every key id that wraps a live DEK must be in the configured
 * ring. Production refuses to start without one; elsewhere the server starts, /readyz
 * answers 503 naming `kek`, and the affected operations answer KEK_UNAVAILABLE.
 */
async function preflightKek(container: Container, config: Config) {
  const missing = await container.services.kek.missingKeyIds();
  const describe = () =>
    `MASTER_KEY / MASTER_KEY_PREVIOUS lack key ids that still wrap data: ${Object.entries(missing)
      .map(([keyId, count]) => `${keyId} (${count} wrapped DEKs)`)
      .join(', ')}. Configure the previous master key in MASTER_KEY_PREVIOUS and start again.`;
  if (Object.keys(missing).length > 0 && config.env === 'production') {
    const message = describe();
    await container.close();
    throw new PreflightError(message);
  }
  return {
    message: Object.keys(missing).length > 0 ? describe() : null,
    check: () => container.services.kek.assertReady(),
  };
}

/** The built SPA at /, with client-side routes falling back to index.html. */
async function registerSpa(app: FastifyInstance, root: string) {
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    if (url.startsWith('/api/') || path.extname(url) !== '') {
      throw new AppError(404, 'NOT_FOUND', 'There is no such route.');
    }
    return reply.type('text/html').sendFile('index.html');
  });
}
