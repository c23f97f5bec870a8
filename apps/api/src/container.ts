import type { Config } from './config.ts';
import { openPrismaClient } from './db/client.ts';
import { applyMigrations } from './db/migrate-runner.ts';
import { fail } from './lib/errors.ts';
import { createLimiter, type Limiter } from './lib/limiter.ts';
import { createAccessRequestsRepository } from './modules/access-requests/access-requests.repository.ts';
import { createAccessRequestsService } from './modules/access-requests/access-requests.service.ts';
import type { Alert } from '@sfe/contract';
import { createSealWorkerPool } from '@sfe/crypto';
import { createAuditSigner } from './lib/audit-signer.ts';
import { createAdminUsersService } from './modules/admin/admin-users.service.ts';
import { createAlertsRepository } from './modules/alerts/alerts.repository.ts';
import { createAlertsService } from './modules/alerts/alerts.service.ts';
import { createAlertWebhook } from './modules/alerts/alerts.webhook.ts';
import { createAuditAdminService } from './modules/audit/audit-admin.service.ts';
import { createAuditRepository, type AuditRepository } from './modules/audit/audit.repository.ts';
import { createAuditService, type ErrorLogger } from './modules/audit/audit.service.ts';
import { createLeasesRepository } from './modules/retention/leases.repository.ts';
import { createRetentionService } from './modules/retention/retention.service.ts';
import type { AuditEvent } from './modules/audit/audit.operations.ts';
import { createAuthService, type AccessTokenClaims } from './modules/auth/auth.service.ts';
import { createPasswordAttempts } from './modules/auth/password-attempts.ts';
import { createRefreshTokensRepository } from './modules/auth/refresh-tokens.repository.ts';
import { createSessionStateRepository } from './modules/auth/session-state.repository.ts';
import { createSignInThrottleRepository } from './modules/auth/sign-in-throttle.repository.ts';
import { createUnknownUserLockoutRepository } from './modules/auth/unknown-user-lockout.repository.ts';
import { createFilesRepository } from './modules/files/files.repository.ts';
import { createFilesService } from './modules/files/files.service.ts';
import { createKekRepository } from './modules/kek/kek.repository.ts';
import { createKekService } from './modules/kek/kek.service.ts';
import { createHealthRepository } from './modules/health/health.repository.ts';
import { createKeyRotationRepository } from './modules/users/key-rotation.repository.ts';
import { createUsersRepository } from './modules/users/users.repository.ts';
import { createUsersService } from './modules/users/users.service.ts';
import { createPrivateKeyUnlock } from './modules/users/private-key-unlock.ts';
import { createNotificationsRepository } from './modules/notifications/notifications.repository.ts';
import { createNotificationsService } from './modules/notifications/notifications.service.ts';
import { createEmailSender, createExpiryJob } from './modules/notifications/notifications.jobs.ts';
import { createMfaRepository } from './modules/mfa/mfa.repository.ts';
import { createMfaService } from './modules/mfa/mfa.service.ts';
import { createPasskeys } from './modules/mfa/webauthn.ts';
import { openBlobStore } from './stores/blobstore/index.ts';
import { openKekProvider } from './stores/kek/index.ts';
import { openKeyStore } from './stores/keystore/index.ts';
import { createDbRateLimitStore } from './stores/rate-limit-store.ts';


export interface ContainerHooks {
  log: ErrorLogger & { warn?(context: object, message: string): void };
  /** Bound late: the API's JWT plugin signs; other callers (the CLI) never issue tokens. */
  signAccessToken?: (claims: AccessTokenClaims) => string;
  onAudit?: (event: AuditEvent) => void;
  onAlert?: (alert: Alert) => void;
}

/**
 * Parts a test may replace with a failing one: an audit store that refuses writes (the
 * fail-closed tests) and a key generator that breaks (the keygen_failure alert).
 */
export interface ContainerOverrides {
  auditRepository?: AuditRepository;
  keygenLimiter?: Limiter;
}

/**
 * The composition root: storage, the KEK ring, repositories and services, wired once
 * for the API and the operator CLI alike. Applies pending migrations first (the
 * schema engine needs the SQLite file before the client opens it).
 */
export async function createContainer(config: Config, hooks: ContainerHooks, overrides: ContainerOverrides = {}) {
  await applyMigrations({ databaseUrl: config.databaseUrl });
  const prisma = await openPrismaClient(config.databaseUrl);
  const keyStore = await openKeyStore({
    ...(config.mongodbUri ? { mongodbUri: config.mongodbUri } : {}),
    dataDir: config.dataDir,
    serverSelectionTimeoutMS: config.keyStoreTimeoutMs,
  });
  const blobStore = await openBlobStore(config.blobStore, config.dataDir);
  const kekProvider = await openKekProvider(config);
  const ring = kekProvider.ring;
  const kekRing = () => ring;

  // No SMTP_URL: no email at all (not even outbox rows).
  const email = config.notifications.smtpUrl ? { publicUrl: config.notifications.publicUrl } : null;
  const notifications = createNotificationsRepository(prisma, email);
  const repositories = {
    notifications,
    users: createUsersRepository(prisma),
    refreshTokens: createRefreshTokensRepository(prisma),
    sessions: createSessionStateRepository(prisma),
    accessRequests: createAccessRequestsRepository(prisma, notifications.write),
    files: createFilesRepository(prisma, notifications.write),
    keyRotation: createKeyRotationRepository(prisma),
    audit: overrides.auditRepository ?? createAuditRepository(prisma),
    health: createHealthRepository(prisma),
    kek: createKekRepository(prisma),
    alerts: createAlertsRepository(prisma, notifications.write),
    leases: createLeasesRepository(prisma),
    mfa: createMfaRepository(prisma),
  };
  const signer = createAuditSigner(config.auditSigningKey);
  const audit = createAuditService({
    auditRepository: repositories.audit,
    log: hooks.log,
    signer,
    checkpointEvery: config.auditCheckpointEvery,
    checkpointMinutes: config.auditCheckpointMinutes,
  });
  if (hooks.onAudit) audit.subscribe(hooks.onAudit);
  const kdfLimiter = createLimiter(config.kdfConcurrency);
  const keygenLimiter = overrides.keygenLimiter ?? createLimiter(config.keygenConcurrency, {
    maxQueue: config.keygenQueue,
    whenFull: () => fail('SERVICE_UNAVAILABLE', 'Key generation is busy; nothing was changed. Try again shortly.', { 'retry-after': '10' }),
  });
  const passwordAttempts = createPasswordAttempts({
    users: repositories.users,
    unknownUsers: createUnknownUserLockoutRepository(prisma),
    signInThrottle: createSignInThrottleRepository(prisma),
    audit,
  });
  const unlockPrivateKey = createPrivateKeyUnlock({ keyStore, audit, kdfLimiter, passwordAttempts });

  const kek = createKekService({
    kek: repositories.kek,
    blobStore,
    kekRing,
    audit,
    allowLegacyCiphers: config.allowLegacyCiphers,
    batchSize: config.kekRotation.batchSize,
    leaseMs: config.kekRotation.leaseMs,
  });
  const mfa = createMfaService({
    mfa: repositories.mfa,
    users: repositories.users,
    kekRing,
    assertKekReady: kek.assertReady,
    audit,
    passwordAttempts,
    kdfLimiter,
    passkeys: createPasskeys(config.mfa),
    requiredRoles: config.mfa.requiredRoles,
    issuer: config.mfa.rpName,
  });
  const auth = createAuthService({
    mfa,
    users: repositories.users,
    refreshTokens: repositories.refreshTokens,
    keyStore,
    audit,
    kdfLimiter,
    keygenLimiter,
    signAccessToken: (claims) => {
      if (!hooks.signAccessToken) throw new Error('access tokens are issued by the API only');
      return hooks.signAccessToken(claims);
    },
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    kdf: config.kdf,
    passwordAttempts,
  });
  const users = createUsersService({
    users: repositories.users,
    keyRotation: repositories.keyRotation,
    accessRequests: repositories.accessRequests,
    refreshTokens: repositories.refreshTokens,
    keyStore,
    audit,
    kdfLimiter,
    keygenLimiter,
    passwordAttempts,
    unlockPrivateKey,
    kdf: config.kdf,
  });
  // Its worker threads start with the first upload, not here.
  const sealPool = createSealWorkerPool();
  const files = createFilesService({
    files: repositories.files,
    accessRequests: repositories.accessRequests,
    blobStore,
    kekRing,
    assertKekReady: kek.assertReady,
    audit,
    maxUploadBytes: config.maxUploadBytes,
    allowLegacyCiphers: config.allowLegacyCiphers,
    sealPool,
  });
  const requests = createAccessRequestsService({
    requests: repositories.accessRequests,
    users: repositories.users,
    files,
    unlockPrivateKey,
    audit,
  });

  const webhook = config.alertWebhook
    ? createAlertWebhook({ ...config.alertWebhook, log: { warn: (context, message) => hooks.log.warn?.(context, message) } })
    : null;
  const alerts = createAlertsService({
    alerts: repositories.alerts,
    audit,
    auditRepository: repositories.audit,
    accessRequests: repositories.accessRequests,
    thresholds: config.alerts,
    log: hooks.log,
    onRaised: (alert) => {
      hooks.onAlert?.(alert);
      webhook?.send(alert);
    },
  });
  audit.subscribe((event) => alerts.onAudit(event));
  const adminUsers = createAdminUsersService({
    users: repositories.users,
    accessRequests: repositories.accessRequests,
    refreshTokens: repositories.refreshTokens,
    keyStore,
    files,
    mfa,
    audit,
    signer,
    notifications,
  });
  audit.subscribe(async (event) => {
    if (event.operation === 'login_succeeded' && event.userId) await adminUsers.onLogin(event.userId);
  });
  const auditAdmin = createAuditAdminService({ auditRepository: repositories.audit, audit, signer });
  const retention = createRetentionService({
    policy: config.retention,
    auditRepository: repositories.audit,
    accessRequests: repositories.accessRequests,
    files: repositories.files,
    leases: repositories.leases,
    audit,
    signer,
  });

  const notificationsService = createNotificationsService({ notifications, email });
  const expiryJob = createExpiryJob({
    accessRequests: repositories.accessRequests,
    notifications,
    leases: repositories.leases,
    readRetentionDays: config.notifications.readRetentionDays,
  });
  const smtpUrl = config.notifications.smtpUrl;
  const emailSender = smtpUrl
    ? createEmailSender({
        notifications,
        leases: repositories.leases,
        smtpUrl,
        from: config.notifications.emailFrom,
        maxAttempts: config.notifications.maxAttempts,
        retryBaseMs: config.notifications.retryBaseMs,
        timeoutMs: config.notifications.smtpTimeoutMs,
      })
    : null;

  return {
    config,
    jobs: { expiry: expiryJob, emailSender },
    signer,
    webhook,
    kekRing,
    kekProvider,
    keyStore,
    blobStore,
    repositories,
    services: { auth, users, files, requests, audit, kek, alerts, adminUsers, auditAdmin, retention, notifications: notificationsService, mfa },
    rateLimitStore: createDbRateLimitStore(prisma),
    health: { database: repositories.health.ping, keyStore: () => keyStore.ping() },
    /** Start-up cleanup after a crash mid-upload: partial blobs and blobs no row references. */
    sweepBlobs: (olderThan: Date) => blobStore.sweep((key) => repositories.files.isBlobReferenced(key), olderThan),
    async close() {
      await webhook?.drain();
      emailSender?.close();
      await prisma.$disconnect();
      await keyStore.close();
      blobStore.close();
      await kekProvider.close();
      await sealPool.close();
    },
  };
}
export type Container = Awaited<ReturnType<typeof createContainer>>;
