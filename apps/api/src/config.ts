import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { weakSecretReason } from './lib/secret-strength.ts';
import { assertMongoAuthenticated, blobStoreFrom, kekFrom, readSecretFile, type KekSettings } from './config-backends.ts';
import type { BlobStoreSettings } from './stores/blobstore/index.ts';

export type { KekSettings } from './config-backends.ts';

/**
 * The one place that reads process.env. Everything is validated once at boot; a bad
 * value stops start-up with a ConfigError naming the variable and the expected form
 * (never echoing a secret).
 */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly mongodbUri: string | undefined;
  /** BLOB_STORE: DATA_DIR/blobs (default) or an S3-compatible bucket. */
  readonly blobStore: BlobStoreSettings;
  /** KEK_PROVIDER: where the KEK ring comes from (env, file or a PKCS#11 HSM). */
  readonly kek: KekSettings;
  /** The active KEK as hex for the env and file providers; '' with pkcs11 (the key never leaves the HSM). */
  readonly masterKey: string;
  readonly masterKeyPrevious: readonly string[];
  readonly jwtSecret: string;
  readonly maxUploadBytes: number;
  readonly allowLegacyCiphers: boolean;
  readonly corsOrigin: string | undefined;
  readonly trustProxy: boolean | string;
  readonly logLevel: string;
  readonly webDist: string | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly keyStoreTimeoutMs: number;
  /** A connection with no bytes moving for this long is closed (stalled uploads and downloads). */
  readonly idleTimeoutMs: number;
  /**
   * How many scrypt/PBKDF2/RSA-keygen jobs run at once. Default: one fewer than the
   * cores, so a burst of logins never takes every core from streaming transfers.
   */
  readonly kdfConcurrency: number;
  /** KEK rotation: rows per re-wrap statement, and how long a claim holds without progress. */
  readonly kekRotation: { readonly batchSize: number; readonly leaseMs: number };
  /**
   * RSA key generation (register, rotate) has its own pool: this many at once, and at
   * most `keygenQueue` waiting; more answer 503 with Retry-After. A 4096-bit key costs
   * seconds of a core, so a burst of registrations must never take every core.
   */
  readonly keygenConcurrency: number;
  readonly keygenQueue: number;
  /** Work factors. Only tests lower them (via buildApp), never the environment. */
  readonly kdf: { readonly pbkdf2Iterations: number; readonly scrypt: { N: number; r: number; p: number } };
  /**
   * Ed25519 seed (64 hex chars) that signs audit checkpoints and erasure certificates.
   * AUDIT_SIGNING_KEY in production; generated once into DATA_DIR otherwise.
   */
  readonly auditSigningKey: string;
  /** A signed checkpoint of the audit chain head after this many records ... */
  readonly auditCheckpointEvery: number;
  /** ... or when the last one is older than this many minutes (0: by count only). */
  readonly auditCheckpointMinutes: number;
  readonly alerts: AlertThresholds;
  /** Optional: every raised alert is POSTed here, HMAC-SHA256 signed with the secret. */
  readonly alertWebhook: { readonly url: string; readonly secret: string } | undefined;
  readonly retention: RetentionPolicy;
  readonly notifications: NotificationSettingsConfig;
  readonly mfa: MfaSettings;
  /** Notes for the operator, logged once at start (e.g. generated development secrets). */
  readonly warnings: readonly string[];
}

export interface AlertThresholds {
  /** failed_logins: this many failures for one account within the window ... */
  readonly failedLoginsPerAccount: number;
  /** ... or this many from one client IP. */
  readonly failedLoginsPerIp: number;
  readonly failedLoginsWindowMinutes: number;
  /** unauthorized_access: this many 401/403/404 answers to one client IP within the window. */
  readonly unauthorizedPerIp: number;
  readonly unauthorizedWindowMinutes: number;
  /** mass_download: this many decrypted downloads by one user within the window. */
  readonly massDownloadCount: number;
  readonly massDownloadWindowMinutes: number;
  /**
   * unusual_access: a consultant's unwraps in the window above factor x its own average
   * per window over the baseline days (and at least minEvents) suspend its open grants.
   */
  readonly unusualAccessFactor: number;
  readonly unusualAccessMinEvents: number;
  readonly unusualAccessWindowMinutes: number;
  readonly unusualAccessBaselineDays: number;
}

export interface RetentionPolicy {
  /** Audit records older than this are purged (default 7 years). */
  readonly auditDays: number;
  /** Closed grants (denied, revoked, expired) processed longer ago than this are purged. */
  readonly closedGrantsDays: number;
  /** Shredded file tombstones older than this are purged (once no request refers to them). */
  readonly tombstoneDays: number;
  /** How often the scheduled purge runs (0: never; `sfe audit purge` still works). */
  readonly purgeIntervalMinutes: number;
}

export interface NotificationSettingsConfig {
  /** SMTP_URL (smtp:// or smtps://, credentials allowed): unset means no email at all. */
  readonly smtpUrl: string | undefined;
  /** The SPA's public origin that links in emails point to (PUBLIC_URL, else the first CORS_ORIGIN). */
  readonly publicUrl: string;
  /** EMAIL_FROM: the sender address of every email. */
  readonly emailFrom: string;
  /** How often the sender loop looks for due emails. */
  readonly sendIntervalMs: number;
  /** An email is given up (marked failed) after this many failed attempts. */
  readonly maxAttempts: number;
  /** First retry after this long; each further one waits twice as long (capped at 6 hours). */
  readonly retryBaseMs: number;
  /** SMTP connection/greeting/socket timeout per attempt. */
  readonly smtpTimeoutMs: number;
  /** How often grants expiring within 24 h (and expired ones) are looked for (0: never). */
  readonly expiryCheckSeconds: number;
  /** Read notifications older than this are removed by the retention purge. */
  readonly readRetentionDays: number;
}

export interface MfaSettings {
  /** MFA_REQUIRED_ROLES: roles that must enrol a second factor before using anything but their profile. */
  readonly requiredRoles: readonly ('organization' | 'consultant' | 'admin')[];
  /** WebAuthn relying party: the host name passkeys are bound to, and the origins the SPA is served from. */
  readonly rpId: string;
  readonly rpName: string;
  readonly origins: readonly string[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number between ${min} and ${max}.`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number between ${min} and ${max}.`);
  }
  return value;
}

function bool(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be "true" or "false".`);
}

function masterKeyFrom(env: Env, isProduction: boolean, dataDir: string, warnings: string[]): string {
  const raw = env.MASTER_KEY;
  if (raw !== undefined && raw !== '') {
    if (!HEX_KEY.test(raw)) throw new ConfigError('MASTER_KEY must be exactly 64 hexadecimal characters (32 random bytes).');
    const weak = weakSecretReason(Buffer.from(raw, 'hex'), raw.toLowerCase(), 16);
    if (weak) throw new ConfigError(`MASTER_KEY is not random: it ${weak}; generate one with \`openssl rand -hex 32\`.`);
    return raw.toLowerCase();
  }
  if (isProduction) throw new ConfigError('MASTER_KEY is required in production: 64 hexadecimal characters (`openssl rand -hex 32`).');
  return devSecret(path.join(dataDir, 'dev-master.key'), () => randomBytes(32).toString('hex'), HEX_KEY, 'MASTER_KEY', warnings);
}

function jwtSecretFrom(env: Env, isProduction: boolean, dataDir: string, warnings: string[]): string {
  const raw = env.JWT_SECRET;
  if (raw !== undefined && raw !== '') {
    if (raw.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters of random data (`openssl rand -hex 32`).');
    const weak = weakSecretReason(Buffer.from(raw, 'utf8'), raw, 10);
    if (weak) throw new ConfigError(`JWT_SECRET is not random: it ${weak}; generate one with \`openssl rand -hex 32\`.`);
    return raw;
  }
  if (isProduction) throw new ConfigError('JWT_SECRET is required in production: at least 32 random characters (`openssl rand -hex 32`).');
  return devSecret(path.join(dataDir, 'dev-jwt.secret'), () => randomBytes(32).toString('hex'), /^.{32,}$/, 'JWT_SECRET', warnings);
}

function auditSigningKeyFrom(env: Env, isProduction: boolean, dataDir: string, warnings: string[]): string {
  const raw = env.AUDIT_SIGNING_KEY;
  if (raw !== undefined && raw !== '') {
    if (!HEX_KEY.test(raw)) throw new ConfigError('AUDIT_SIGNING_KEY must be exactly 64 hexadecimal characters (a 32-byte Ed25519 seed).');
    const weak = weakSecretReason(Buffer.from(raw, 'hex'), raw.toLowerCase(), 16);
    if (weak) throw new ConfigError(`AUDIT_SIGNING_KEY is not random: it ${weak}; generate one with \`openssl rand -hex 32\`.`);
    return raw.toLowerCase();
  }
  if (isProduction) throw new ConfigError('AUDIT_SIGNING_KEY is required in production: 64 hexadecimal characters (`openssl rand -hex 32`).');
  return devSecret(path.join(dataDir, 'dev-audit-signing.key'), () => randomBytes(32).toString('hex'), HEX_KEY, 'AUDIT_SIGNING_KEY', warnings);
}

function alertWebhookFrom(env: Env): Config['alertWebhook'] {
  const url = env.ALERT_WEBHOOK_URL || undefined;
  const secret = env.ALERT_WEBHOOK_SECRET || undefined;
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined || secret === undefined) throw new ConfigError('ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET are set together or not at all.');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('ALERT_WEBHOOK_URL must be an http(s) URL.');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError('ALERT_WEBHOOK_URL must be an http(s) URL.');
  if (parsed.username || parsed.password) throw new ConfigError('ALERT_WEBHOOK_URL must not carry credentials; use ALERT_WEBHOOK_SECRET.');
  if (secret.length < 32) throw new ConfigError('ALERT_WEBHOOK_SECRET must be at least 32 characters of random data.');
  return { url, secret };
}

/** Development only: a secret generated once into DATA_DIR (mode 0600) so restarts keep working. */
function devSecret(file: string, make: () => string, valid: RegExp, name: string, warnings: string[]): string {
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (!valid.test(value)) throw new ConfigError(`${file} does not hold a valid ${name}; delete it to generate a new one.`);
    chmodSync(file, 0o600);
    warnings.push(`${name} is not set: using the development value in ${file}. Never do this in production.`);
    return value;
  }
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  warnings.push(`${name} is not set: GENERATED a development value into ${file}. Never do this in production.`);
  return value;
}

const configError = (message: string): ConfigError => new ConfigError(message);

/** An http(s) origin (optionally with a path prefix), no credentials, query or fragment; no trailing slash. */
function publicUrlFrom(raw: string, name: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL such as https://sfe.example.org.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL such as https://sfe.example.org.`);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) throw new ConfigError(`${name} must not carry credentials, a query or a fragment.`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

function notificationsFrom(env: Env, isProduction: boolean, host: string, port: number): NotificationSettingsConfig {
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(smtpUrl);
    } catch {
      throw new ConfigError('SMTP_URL must be an smtp:// or smtps:// URL (smtps://user:password@mail.example.org:465).');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
      throw new ConfigError('SMTP_URL must be an smtp:// or smtps:// URL (smtps://user:password@mail.example.org:465).');
    }
  }
  const cors = (env.CORS_ORIGIN || '').split(',').map((o) => o.trim()).find(Boolean);
  let publicUrl: string;
  if (env.PUBLIC_URL) publicUrl = publicUrlFrom(env.PUBLIC_URL, 'PUBLIC_URL');
  else if (cors) publicUrl = publicUrlFrom(cors, 'CORS_ORIGIN');
  else if (isProduction && smtpUrl) throw new ConfigError('PUBLIC_URL is required with SMTP_URL in production: the origin people open SFE at (links in emails point there).');
  else publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const emailFrom = env.EMAIL_FROM || `SFE <no-reply@${new URL(publicUrl).hostname}>`;
  if (/[\r\n]/.test(emailFrom) || !/@/.test(emailFrom)) throw new ConfigError('EMAIL_FROM must be one address such as "SFE <no-reply@example.org>".');
  return Object.freeze({
    smtpUrl,
    publicUrl,
    emailFrom,
    sendIntervalMs: int(env, 'EMAIL_SEND_INTERVAL_MS', 10_000, 50, 3_600_000),
    maxAttempts: int(env, 'EMAIL_MAX_ATTEMPTS', 8, 1, 100),
    retryBaseMs: int(env, 'EMAIL_RETRY_BASE_MS', 30_000, 10, 3_600_000),
    smtpTimeoutMs: int(env, 'SMTP_TIMEOUT_MS', 10_000, 100, 120_000),
    expiryCheckSeconds: int(env, 'NOTIFY_EXPIRY_CHECK_SECONDS', 900, 0, 24 * 3600),
    readRetentionDays: int(env, 'RETENTION_READ_NOTIFICATIONS_DAYS', 90, 1, 100 * 365),
  });
}

/** MASTER_KEY and MASTER_KEY_PREVIOUS as the env provider reads them, from the files for KEK_PROVIDER=file. */
function kekEnvironment(env: Env, kek: KekSettings): Env {
  if (kek.provider !== 'file') return env;
  const active = readSecretFile('MASTER_KEY_FILE', kek.file, configError).trim();
  if (!HEX_KEY.test(active)) throw new ConfigError('MASTER_KEY_FILE must hold exactly 64 hexadecimal characters (`openssl rand -hex 32`).');
  const previous = kek.previousFile === undefined ? env.MASTER_KEY_PREVIOUS : readSecretFile('MASTER_KEY_PREVIOUS_FILE', kek.previousFile, configError);
  return { ...env, MASTER_KEY: active, MASTER_KEY_PREVIOUS: previous };
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    throw new ConfigError('NODE_ENV must be one of development, production, test.');
  }
  const isProduction = nodeEnv === 'production';
  const warnings: string[] = [];
  const dataDir = path.resolve(cwd, env.DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);

  const mongodbUri = env.MONGODB_URI || undefined;
  if (mongodbUri !== undefined && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    throw new ConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://.');
  }
  const databaseUrl = env.DATABASE_URL || `file:${path.join(dataDir, 'sfe.db')}`;
  if (!/^(file:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a SQLite URL (file:/absolute/path.db) or a PostgreSQL URL (postgresql://user:password@host:5432/db).');
  }

  assertMongoAuthenticated(env, mongodbUri, isProduction, configError);
  const blobStore = blobStoreFrom(env, isProduction, configError);
  const kek = kekFrom(env, configError);
  const keyEnv = kekEnvironment(env, kek);

  const previous = (keyEnv.MASTER_KEY_PREVIOUS ?? '').split(/[,\n]/).map((k) => k.trim()).filter(Boolean);
  for (const key of previous) {
    if (!HEX_KEY.test(key)) throw new ConfigError('MASTER_KEY_PREVIOUS must be a comma-separated list of 64-hex-character keys.');
  }

  const trustProxyRaw = env.TRUST_PROXY;
  const trustProxy =
    trustProxyRaw === undefined || trustProxyRaw === '' || trustProxyRaw === 'false'
      ? false
      : trustProxyRaw === 'true'
        ? true
        : trustProxyRaw;

  const host = env.HOST || '127.0.0.1';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const config: Config = {
    env: nodeEnv as Config['env'],
    host,
    port,
    dataDir,
    databaseUrl,
    mongodbUri,
    blobStore,
    kek,
    masterKey: kek.provider === 'pkcs11' ? '' : masterKeyFrom(keyEnv, isProduction, dataDir, warnings),
    masterKeyPrevious: previous.map((k) => k.toLowerCase()),
    jwtSecret: jwtSecretFrom(env, isProduction, dataDir, warnings),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', DEFAULT_MAX_UPLOAD_BYTES, 1, Number.MAX_SAFE_INTEGER),
    allowLegacyCiphers: bool(env, 'ALLOW_LEGACY_CIPHERS'),
    corsOrigin: env.CORS_ORIGIN || undefined,
    trustProxy,
    logLevel,
    webDist: env.SFE_WEB_DIST || undefined,
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', 30 * 86_400, 300, 365 * 86_400),
    keyStoreTimeoutMs: int(env, 'KEY_STORE_TIMEOUT_MS', 3000, 100, 120_000),
    idleTimeoutMs: int(env, 'IDLE_TIMEOUT_MS', 60_000, 1_000, 3_600_000),
    kdfConcurrency: int(env, 'KDF_CONCURRENCY', Math.max(1, availableParallelism() - 1), 1, 256),
    kekRotation: {
      batchSize: int(env, 'KEK_ROTATION_BATCH_SIZE', 500, 1, 5000),
      leaseMs: int(env, 'KEK_ROTATION_LEASE_MS', 15_000, 500, 600_000),
    },
    keygenConcurrency: int(env, 'KEYGEN_CONCURRENCY', 1, 1, 64),
    keygenQueue: int(env, 'KEYGEN_QUEUE', 4, 0, 1024),
    kdf: { pbkdf2Iterations: 600_000, scrypt: { N: 2 ** 17, r: 8, p: 1 } },
    auditSigningKey: auditSigningKeyFrom(env, isProduction, dataDir, warnings),
    auditCheckpointEvery: int(env, 'AUDIT_CHECKPOINT_EVERY', 100, 1, 1_000_000),
    auditCheckpointMinutes: int(env, 'AUDIT_CHECKPOINT_MINUTES', 60, 0, 7 * 24 * 60),
    alerts: Object.freeze({
      failedLoginsPerAccount: int(env, 'ALERT_FAILED_LOGINS_PER_ACCOUNT', 5, 1, 1_000_000),
      failedLoginsPerIp: int(env, 'ALERT_FAILED_LOGINS_PER_IP', 20, 1, 1_000_000),
      failedLoginsWindowMinutes: int(env, 'ALERT_FAILED_LOGINS_WINDOW_MINUTES', 15, 1, 24 * 60),
      unauthorizedPerIp: int(env, 'ALERT_UNAUTHORIZED_PER_IP', 20, 1, 1_000_000),
      unauthorizedWindowMinutes: int(env, 'ALERT_UNAUTHORIZED_WINDOW_MINUTES', 5, 1, 24 * 60),
      massDownloadCount: int(env, 'ALERT_MASS_DOWNLOAD_COUNT', 50, 1, 1_000_000),
      massDownloadWindowMinutes: int(env, 'ALERT_MASS_DOWNLOAD_WINDOW_MINUTES', 10, 1, 24 * 60),
      unusualAccessFactor: int(env, 'ALERT_UNUSUAL_ACCESS_FACTOR', 5, 1, 1000),
      unusualAccessMinEvents: int(env, 'ALERT_UNUSUAL_ACCESS_MIN_EVENTS', 20, 1, 1_000_000),
      unusualAccessWindowMinutes: int(env, 'ALERT_UNUSUAL_ACCESS_WINDOW_MINUTES', 60, 1, 24 * 60),
      unusualAccessBaselineDays: int(env, 'ALERT_UNUSUAL_ACCESS_BASELINE_DAYS', 14, 1, 365),
    }),
    alertWebhook: alertWebhookFrom(env),
    retention: Object.freeze({
      auditDays: int(env, 'RETENTION_AUDIT_DAYS', 7 * 365, 1, 100 * 365),
      closedGrantsDays: int(env, 'RETENTION_CLOSED_GRANTS_DAYS', 365, 1, 100 * 365),
      tombstoneDays: int(env, 'RETENTION_TOMBSTONE_DAYS', 365, 1, 100 * 365),
      purgeIntervalMinutes: int(env, 'RETENTION_PURGE_INTERVAL_MINUTES', 24 * 60, 0, 7 * 24 * 60),
    }),
    notifications: notificationsFrom(env, isProduction, host, port),
    mfa: mfaFrom(env),
    warnings,
  };
  return Object.freeze(config);
}

const ROLES = ['organization', 'consultant', 'admin'] as const;

/**
 * Second factors. The WebAuthn origin is the public origin of the SPA: WEBAUTHN_ORIGIN
 * (comma list), else the first CORS_ORIGIN, else http://localhost:PORT; the RP id is
 * WEBAUTHN_RP_ID or that origin's host name.
 */
function mfaFrom(env: Env): MfaSettings {
  const raw = env.MFA_REQUIRED_ROLES ?? 'admin';
  const requiredRoles = raw.split(',').map((role) => role.trim()).filter(Boolean);
  for (const role of requiredRoles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`MFA_REQUIRED_ROLES must be a comma-separated list of ${ROLES.join(', ')} (or empty for none).`);
    }
  }
  const fallback = env.CORS_ORIGIN?.split(',')[0]?.trim() || `http://localhost:${env.PORT || '3000'}`;
  const origins = (env.WEBAUTHN_ORIGIN || fallback).split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError('WEBAUTHN_ORIGIN must be a comma-separated list of origins such as https://sfe.example.com.');
    }
    if (url.origin !== origin || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError('WEBAUTHN_ORIGIN must be a comma-separated list of origins such as https://sfe.example.com (scheme and host, no path).');
    }
  }
  const rpId = env.WEBAUTHN_RP_ID || new URL(origins[0] ?? fallback).hostname;
  if (!/^[a-z0-9.-]+$/i.test(rpId) || /^[0-9.]+$/.test(rpId)) {
    throw new ConfigError('WEBAUTHN_RP_ID must be a host name (not an IP address) such as sfe.example.com.');
  }
  for (const origin of origins) {
    const host = new URL(origin).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) throw new ConfigError(`WEBAUTHN_ORIGIN ${origin} is not on WEBAUTHN_RP_ID ${rpId}.`);
  }
  return Object.freeze({
    requiredRoles: Object.freeze([...new Set(requiredRoles)]) as MfaSettings['requiredRoles'],
    rpId,
    rpName: env.WEBAUTHN_RP_NAME || 'Secure File Exchange',
    origins: Object.freeze(origins),
  });
}
