import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BlobStoreSettings } from './stores/blobstore/index.ts';

/**
 * The parts of the configuration that pick a backend: where blobs live, where the
 * KEK lives, and the production refusals for a key store or object store reached
 * without authentication or encryption. Called by loadConfig with its env object
 * (never process.env directly); every failure is a ConfigErrorLike naming the
 * variable, never its value.
 */

type Env = Record<string, string | undefined>;
type Fail = (message: string) => Error;

export type KekSettings =
  | { readonly provider: 'env' }
  | { readonly provider: 'file'; readonly file: string; readonly previousFile: string | undefined }
  | {
      readonly provider: 'pkcs11';
      /** The PKCS#11 module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so. */
      readonly module: string;
      readonly tokenLabel: string;
      readonly pin: string;
      /** CKA_LABEL of the active KEK inside the token ... */
      readonly keyLabel: string;
      /** ... and of the previous ones still needed to unwrap (the MASTER_KEY_PREVIOUS of an HSM). */
      readonly previousKeyLabels: readonly string[];
    };

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_LABEL = /^[A-Za-z0-9._-]{1,64}$/;

function flag(env: Env, name: string, fail: Fail): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw fail(`${name} must be "true" or "false".`);
}

export function blobStoreFrom(env: Env, isProduction: boolean, fail: Fail): BlobStoreSettings {
  const kind = env.BLOB_STORE || 'fs';
  if (kind === 'fs') return Object.freeze({ kind: 'fs' });
  if (kind !== 's3') throw fail('BLOB_STORE must be "fs" (DATA_DIR/blobs) or "s3".');

  const bucket = env.S3_BUCKET ?? '';
  if (!S3_BUCKET.test(bucket)) throw fail('S3_BUCKET is required with BLOB_STORE=s3: a bucket name (3-63 of a-z, 0-9, "." and "-").');
  const region = env.S3_REGION || env.AWS_REGION || 'us-east-1';
  if (!/^[a-z0-9-]{2,32}$/.test(region)) throw fail('S3_REGION must be a region name such as eu-central-1.');
  const endpoint = env.S3_ENDPOINT || undefined;
  if (endpoint !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(endpoint);
    } catch {
      throw fail('S3_ENDPOINT must be an http(s) URL such as https://minio.internal:9000.');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw fail('S3_ENDPOINT must be an http(s) URL such as https://minio.internal:9000.');
    if (parsed.username || parsed.password) throw fail('S3_ENDPOINT must not carry credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
    if (parsed.protocol === 'http:' && isProduction && !flag(env, 'S3_ALLOW_HTTP', fail)) {
      throw fail('S3_ENDPOINT is plain http:// in production: blobs and credentials would cross the network unencrypted. Use https://, or set S3_ALLOW_HTTP=true for a private network you trust.');
    }
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw fail('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together or not at all (then the AWS SDK looks for a role or profile).');
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return Object.freeze({
    kind: 's3',
    bucket,
    region,
    forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', fail),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(accessKeyId === undefined || secretAccessKey === undefined
      ? {}
      : { credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) } }),
  });
}

/**
 * A MongoDB key store in production must authenticate: user and password in the URI,
 * or an authMechanism that needs none there (X.509 client certificates, AWS IAM).
 */
export function assertMongoAuthenticated(env: Env, mongodbUri: string | undefined, isProduction: boolean, fail: Fail): void {
  if (mongodbUri === undefined || !isProduction) return;
  const userinfo = /^mongodb(\+srv)?:\/\/([^@/?]+)@/.exec(mongodbUri)?.[2];
  const mechanism = /[?&]authMechanism=(MONGODB-X509|MONGODB-AWS)(&|$)/i.test(mongodbUri);
  if (userinfo !== undefined && userinfo.length > 0) return;
  if (mechanism) return;
  if (flag(env, 'MONGODB_ALLOW_UNAUTHENTICATED', fail)) return;
  throw fail(
    'MONGODB_URI has no credentials in production: the key store holds every private key. ' +
      'Use mongodb://USER:PASSWORD@host/db (or authMechanism=MONGODB-X509), or set MONGODB_ALLOW_UNAUTHENTICATED=true if the database is otherwise protected.',
  );
}

/** A secret file: owned by us and readable by its owner only, like ssh's private keys. */
export function readSecretFile(name: string, file: string, fail: Fail): string {
  const resolved = path.resolve(file);
  let mode: number;
  try {
    const info = statSync(resolved);
    if (!info.isFile()) throw fail(`${name} must name a regular file.`);
    mode = info.mode;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConfigError') throw error;
    throw fail(`${name} names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  if ((mode & 0o077) !== 0) {
    throw fail(`${name} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it (or 400).`);
  }
  return readFileSync(resolved, 'utf8');
}

export function kekFrom(env: Env, fail: Fail): KekSettings {
  const provider = env.KEK_PROVIDER || 'env';
  if (provider === 'env') return Object.freeze({ provider: 'env' });
  if (provider === 'file') {
    if (env.MASTER_KEY) throw fail('MASTER_KEY and KEK_PROVIDER=file exclude each other: the key comes from MASTER_KEY_FILE.');
    const file = env.MASTER_KEY_FILE;
    if (!file) throw fail('MASTER_KEY_FILE is required with KEK_PROVIDER=file: a file (mode 0600) holding the 64-hex-character key.');
    return Object.freeze({ provider: 'file', file: path.resolve(file), previousFile: env.MASTER_KEY_PREVIOUS_FILE ? path.resolve(env.MASTER_KEY_PREVIOUS_FILE) : undefined });
  }
  if (provider !== 'pkcs11') throw fail('KEK_PROVIDER must be one of env, file, pkcs11.');
  if (env.MASTER_KEY || env.MASTER_KEY_PREVIOUS) throw fail('MASTER_KEY and MASTER_KEY_PREVIOUS must be unset with KEK_PROVIDER=pkcs11: the KEK never leaves the HSM.');
  const module = env.PKCS11_MODULE ?? '';
  if (!path.isAbsolute(module)) throw fail('PKCS11_MODULE must be the absolute path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so.');
  const tokenLabel = env.PKCS11_TOKEN_LABEL ?? '';
  if (tokenLabel.length === 0 || tokenLabel.length > 32) throw fail('PKCS11_TOKEN_LABEL must be the token label (1-32 characters).');
  const pinFile = env.PKCS11_PIN_FILE || undefined;
  if (pinFile !== undefined && env.PKCS11_PIN) throw fail('Set PKCS11_PIN or PKCS11_PIN_FILE, not both.');
  const pin = (pinFile === undefined ? (env.PKCS11_PIN ?? '') : readSecretFile('PKCS11_PIN_FILE', pinFile, fail)).trim();
  if (pin.length < 4) throw fail('PKCS11_PIN (or PKCS11_PIN_FILE) is required with KEK_PROVIDER=pkcs11: the user PIN of the token.');
  const keyLabel = env.PKCS11_KEY_LABEL ?? '';
  if (!KEY_LABEL.test(keyLabel)) throw fail('PKCS11_KEY_LABEL must be the label of the active KEK in the token (1-64 of A-Z, a-z, 0-9, ".", "_", "-").');
  const previousKeyLabels = (env.PKCS11_KEY_LABELS_PREVIOUS ?? '').split(',').map((label) => label.trim()).filter(Boolean);
  for (const label of previousKeyLabels) {
    if (!KEY_LABEL.test(label)) throw fail('PKCS11_KEY_LABELS_PREVIOUS must be a comma-separated list of key labels.');
  }
  if (new Set([keyLabel, ...previousKeyLabels]).size !== previousKeyLabels.length + 1) throw fail('PKCS11_KEY_LABEL and PKCS11_KEY_LABELS_PREVIOUS name one label twice.');
  return Object.freeze({ provider: 'pkcs11', module, tokenLabel, pin, keyLabel, previousKeyLabels: Object.freeze(previousKeyLabels) });
}
