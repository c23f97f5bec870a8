import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { API_PREFIX } from '@sfe/contract';
import { createKekRing, parseKek, type KekRing } from '@sfe/crypto';
import type { Config } from './config.ts';
import { createPrismaClient } from './db/client.ts';
import { migrateDeploy } from './db/schema-engine.ts';
import { AppError } from './lib/errors.ts';
import { createLimiter } from './lib/limiter.ts';
import authPlugin from './plugins/auth.ts';
import docsPlugin from './plugins/docs.ts';
import errorsPlugin from './plugins/errors.ts';
import metricsPlugin, { createMetrics } from './plugins/metrics.ts';
import { accessRequestRoutes, fileAccessRequestRoutes } from './modules/access-requests/access-requests.routes.ts';
import { createAccessRequestsRepository } from './modules/access-requests/access-requests.repository.ts';
import { createAccessRequestsService } from './modules/access-requests/access-requests.service.ts';
import { createAuditRepository } from './modules/audit/audit.repository.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { createRefreshTokensRepository } from './modules/auth/refresh-tokens.repository.ts';
import { filesRoutes } from './modules/files/files.routes.ts';
import { createFilesRepository } from './modules/files/files.repository.ts';
import { createFilesService } from './modules/files/files.service.ts';
import { createHealthRepository } from './modules/health/health.repository.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { createKeyRotationRepository } from './modules/users/key-rotation.repository.ts';
import { createUsersRepository } from './modules/users/users.repository.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { createUsersService } from './modules/users/users.service.ts';
import { createFsBlobStore } from './stores/blobstore/index.ts';
import { openKeyStore } from './stores/keystore/index.ts';
import { createDbRateLimitStore } from './stores/rate-limit-store.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MIGRATIONS_DIR = path.resolve(here, '../../../prisma/migrations');
export const DEFAULT_WEB_DIST = path.resolve(here, '../../web/dist');

/** Redacted wherever they appear in a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  // Plugins log request headers under their own keys (multipart: busboyOptions.headers).
  '*.headers.authorization',
  '*.headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.masterKey',
  '*.jwtSecret',
];

/**
 * Builds the whole app on a config; never listens. Applies pending migrations first:
 * the schema engine needs the SQLite file before the app's client opens it.
 */
export async function buildApp(config: Config): Promise<FastifyInstance> {
  await migrateDeploy({ databaseUrl: config.databaseUrl, migrationsDir: MIGRATIONS_DIR });
  const prisma = createPrismaClient(config.databaseUrl);
  const keyStore = await openKeyStore({
    ...(config.mongodbUri ? { mongodbUri: config.mongodbUri } : {}),
    dataDir: config.dataDir,
    serverSelectionTimeoutMS: config.keyStoreTimeoutMs,
  });
  const blobStore = await createFsBlobStore(path.join(config.dataDir, 'blobs'));
  const ring: KekRing = createKekRing(parseKek(config.masterKey), config.masterKeyPrevious.map(parseKek));
  const metrics = createMetrics();

  const app = Fastify({
    logger: { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onClose', async () => {
    await prisma.$disconnect();
    await keyStore.close();
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
  await app.register(helmet, {
    contentSecurityPolicy: {
      // No upgrade-insecure-requests: behind plain HTTP on a LAN it would break every asset;
      // TLS belongs to the reverse proxy, which can add it.
      directives: { 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"], 'upgrade-insecure-requests': null },
    },
  });
  await app.register(rateLimit, {
    global: false,
    store: createDbRateLimitStore(prisma),
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'RATE_LIMITED', `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
        'retry-after': String(Math.ceil(context.ttl / 1000)),
      }),
  });
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, fieldSize: 8 * 1024, parts: 12, headerPairs: 100 },
  });
  await app.register(metricsPlugin, { metrics });
  await app.register(docsPlugin);

  const users = createUsersRepository(prisma);
  await app.register(authPlugin, { secret: config.jwtSecret, accessTokenTtlSeconds: config.accessTokenTtlSeconds, users });

  const audit = createAuditService({
    auditRepository: createAuditRepository(prisma),
    log: app.log,
    onRecord: (event) => metrics.cryptoOperations.inc({ operation: event.operation, success: String(event.success) }),
  });
  const kdfLimiter = createLimiter(config.kdfConcurrency);
  const onKeyStoreUnavailable = () => metrics.keyStoreErrors.inc();
  const refreshTokens = createRefreshTokensRepository(prisma);
  const accessRequestsRepository = createAccessRequestsRepository(prisma);
  const filesRepository = createFilesRepository(prisma);
  const kekRing = () => ring;

  const auth = createAuthService({
    users,
    refreshTokens,
    keyStore,
    audit,
    kdfLimiter,
    signAccessToken: app.signAccessToken,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    kdf: config.kdf,
    onFailedLogin: () => metrics.failedLogins.inc(),
  });
  const usersService = createUsersService({
    users,
    keyRotation: createKeyRotationRepository(prisma),
    accessRequests: accessRequestsRepository,
    refreshTokens,
    keyStore,
    audit,
    kdfLimiter,
    kdf: config.kdf,
    onKeyStoreUnavailable,
  });
  const files = createFilesService({
    files: filesRepository,
    accessRequests: accessRequestsRepository,
    blobStore,
    kekRing,
    audit,
    maxUploadBytes: config.maxUploadBytes,
    allowLegacyCiphers: config.allowLegacyCiphers,
  });
  const requests = createAccessRequestsService({
    requests: accessRequestsRepository,
    users,
    files,
    keyStore,
    kekRing,
    audit,
    kdfLimiter,
    onKeyStoreUnavailable,
  });

  const health = createHealthRepository(prisma);
  await app.register(healthRoutes, { checks: { database: health.ping, keyStore: () => keyStore.ping() } });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { prefix: '/auth', auth });
      await api.register(usersRoutes, { prefix: '/users', users: usersService });
      await api.register(filesRoutes, { prefix: '/files', files });
      await api.register(fileAccessRequestRoutes, { prefix: '/files', requests });
      await api.register(accessRequestRoutes, { prefix: '/access-requests', requests });
    },
    { prefix: API_PREFIX },
  );

  const webDist = config.webDist ?? DEFAULT_WEB_DIST;
  if (existsSync(path.join(webDist, 'index.html'))) await registerSpa(app, webDist);

  // A crash mid-upload leaves a partial blob (and at worst a committed blob without its
  // row): remove both before serving.
  const swept = await blobStore.sweep((key) => filesRepository.isBlobReferenced(key), new Date());
  if (swept.removedPartials + swept.removedOrphans > 0) app.log.warn(swept, 'removed blobs left by an interrupted upload');
  for (const warning of config.warnings) app.log.warn(warning);
  return app;
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
