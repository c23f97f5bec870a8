/**
 * Password protection of users' RSA private keys (stored in the key store).
 * key = PBKDF2-HMAC-SHA256(password UTF-8, salt 16 B, iterations, 32 B);
 * encryptedPrivateKey = AES-256-GCM(key, nonce 12 B, privateKeyDer) || tag(16),
 * associated data = "SFE private key v1" 0x00 || u32be(len) userId || u32be(len) fingerprint.
 * The iteration count is stored per record, so records from the seed
 * (100,000 iterations) still open and can be upgraded on the next unlock.
 * A wrong password and a record moved to another user/key are indistinguishable
 * by design: both are WrongPasswordError.
 */
import { randomBytes } from 'node:crypto';
import { aeadOpen, aeadSeal } from './aead.ts';
import { InvalidKeyError, WrongPasswordError } from './errors.ts';
import { pbkdf2Sha256 } from './kdf.ts';

export interface ProtectedPrivateKey {
  encryptedPrivateKey: Buffer;
  salt: Buffer;
  nonce: Buffer;
  cipher: 'aes-256-gcm';
  kdf: 'pbkdf2-sha256';
  iterations: number;
}

export interface PrivateKeyContext {
  userId: string;
  fingerprint: string;
}

/** OWASP Password Storage Cheat Sheet, PBKDF2-HMAC-SHA256. */
export const PBKDF2_DEFAULT_ITERATIONS = 600_000;
/** Floor for opening and creating records; bounds the work a record can demand too. */
export const PBKDF2_MIN_ITERATIONS = 10_000;
export const PBKDF2_MAX_ITERATIONS = 10_000_000;
const SALT_LENGTH = 16;
const NONCE_LENGTH = 12;
const LABEL = Buffer.from('SFE private key v1\0', 'ascii');

function checkIterations(iterations: number): void {
  if (
    !Number.isInteger(iterations) ||
    iterations < PBKDF2_MIN_ITERATIONS ||
    iterations > PBKDF2_MAX_ITERATIONS
  ) {
    throw new InvalidKeyError(
      `PBKDF2 iterations must be an integer from ${PBKDF2_MIN_ITERATIONS} to ${PBKDF2_MAX_ITERATIONS}`,
    );
  }
}

function lengthPrefixed(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function associatedData(context: PrivateKeyContext): Buffer {
  return Buffer.concat([LABEL, lengthPrefixed(context.userId), lengthPrefixed(context.fingerprint)]);
}

export async function protectPrivateKey(
  privateKeyDer: Buffer,
  password: string,
  context: PrivateKeyContext,
  options: { iterations?: number } = {},
): Promise<ProtectedPrivateKey> {
  const iterations = options.iterations ?? PBKDF2_DEFAULT_ITERATIONS;
  checkIterations(iterations);
  const salt = randomBytes(SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const key = await pbkdf2Sha256(Buffer.from(password, 'utf8'), salt, iterations, 32);
  const encryptedPrivateKey = aeadSeal('aes-256-gcm', key, nonce, privateKeyDer, associatedData(context));
  key.fill(0);
  return { encryptedPrivateKey, salt, nonce, cipher: 'aes-256-gcm', kdf: 'pbkdf2-sha256', iterations };
}

export async function unprotectPrivateKey(
  record: ProtectedPrivateKey,
  password: string,
  context: PrivateKeyContext,
): Promise<Buffer> {
  if (record.kdf !== 'pbkdf2-sha256' || record.cipher !== 'aes-256-gcm') {
    throw new InvalidKeyError('unsupported private key protection (expected pbkdf2-sha256 + aes-256-gcm)');
  }
  checkIterations(record.iterations);
  if (record.salt.length < 8 || record.salt.length > 64 || record.nonce.length !== NONCE_LENGTH) {
    throw new InvalidKeyError('protected private key has an invalid salt or nonce length');
  }
  const key = await pbkdf2Sha256(Buffer.from(password, 'utf8'), record.salt, record.iterations, 32);
  try {
    return aeadOpen('aes-256-gcm', key, record.nonce, record.encryptedPrivateKey, associatedData(context));
  } catch {
    throw new WrongPasswordError();
  } finally {
    key.fill(0);
  }
}

export function privateKeyNeedsUpgrade(
  record: Pick<ProtectedPrivateKey, 'kdf' | 'iterations'>,
  policy: { iterations?: number } = {},
): boolean {
  return (
    record.kdf !== 'pbkdf2-sha256' || record.iterations < (policy.iterations ?? PBKDF2_DEFAULT_ITERATIONS)
  );
}
