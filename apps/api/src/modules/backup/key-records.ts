import type { KeyAlgorithm, KeyMaterial, PrivateKeyRecord } from '../../stores/keystore/index.ts';
import { ArchiveFormatError } from './backup.errors.ts';

// The key store part: one JSON object per line, buffers in base64 and dates in ISO
// 8601, the same for every backend, so records from MongoDB restore into the
// embedded store and back. The private keys in it are still password-encrypted.

/** A record is ~2 KiB; anything near this is not one of ours. */
const MAX_LINE_BYTES = 64 * 1024;
const FIELDS = [
  'userId', 'encryptedPrivateKey', 'salt', 'nonce', 'cipher', 'kdf', 'iterations',
  'algorithm', 'fingerprint', 'createdAt', 'lastAccessed', 'accessCount',
] as const;
const MATERIAL_FIELDS = ['encryptedPrivateKey', 'salt', 'nonce', 'cipher', 'kdf', 'iterations', 'algorithm', 'fingerprint'] as const;

function serializeMaterial(key: KeyMaterial): Record<(typeof MATERIAL_FIELDS)[number], string | number> {
  return {
    encryptedPrivateKey: key.encryptedPrivateKey.toString('base64'),
    salt: key.salt.toString('base64'),
    nonce: key.nonce.toString('base64'),
    cipher: key.cipher,
    kdf: key.kdf,
    iterations: key.iterations,
    algorithm: key.algorithm,
    fingerprint: key.fingerprint,
  };
}

function parseMaterial(value: unknown): KeyMaterial {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  const r = value as Record<string, unknown>;
  const keys = Object.keys(r).sort();
  if (keys.length !== MATERIAL_FIELDS.length || ![...MATERIAL_FIELDS].sort().every((field, i) => keys[i] === field)) throw bad();
  const { cipher, kdf, iterations, algorithm, fingerprint } = r;
  if (typeof fingerprint !== 'string' || typeof iterations !== 'number') throw bad();
  if (cipher !== 'aes-256-gcm' || kdf !== 'pbkdf2-sha256') throw bad();
  if (algorithm !== 'RSA-2048' && algorithm !== 'RSA-4096') throw bad();
  return {
    encryptedPrivateKey: base64(r.encryptedPrivateKey),
    salt: base64(r.salt),
    nonce: base64(r.nonce),
    cipher,
    kdf,
    iterations,
    algorithm: algorithm satisfies KeyAlgorithm,
    fingerprint,
  };
}

export function serializeKeyRecord(record: PrivateKeyRecord): string {
  // `previous` is written since the previous-key slot exists; archives made before it lack it.
  const line: Record<(typeof FIELDS)[number] | 'previous', unknown> = {
    userId: record.userId,
    ...serializeMaterial(record),
    previous: record.previous === null ? null : serializeMaterial(record.previous),
    createdAt: record.createdAt.toISOString(),
    lastAccessed: record.lastAccessed === null ? null : record.lastAccessed.toISOString(),
    accessCount: record.accessCount,
  };
  return `${JSON.stringify(line)}\n`;
}

/** Shape and encodings only; the key store checks the values again on restore(). */
export function parseKeyRecord(line: string): PrivateKeyRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ArchiveFormatError('a key store line is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  const r = value as Record<string, unknown>;
  const keys = Object.keys(r).filter((key) => key !== 'previous').sort();
  if (keys.length !== FIELDS.length || ![...FIELDS].sort().every((field, i) => keys[i] === field)) throw bad();
  const { userId, accessCount } = r;
  if (typeof userId !== 'string' || typeof accessCount !== 'number') throw bad();
  const material = parseMaterial(Object.fromEntries(MATERIAL_FIELDS.map((field) => [field, r[field]])));
  return {
    userId,
    ...material,
    previous: r.previous === undefined || r.previous === null ? null : parseMaterial(r.previous),
    createdAt: date(r.createdAt),
    lastAccessed: r.lastAccessed === null ? null : date(r.lastAccessed),
    accessCount,
  };
}

/** Splits a byte stream into lines without holding more than one line (and a chunk). */
export async function* lines(source: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let end = pending.indexOf(0x0a, start); end !== -1; end = pending.indexOf(0x0a, start)) {
      yield pending.toString('utf8', start, end);
      start = end + 1;
    }
    pending = pending.subarray(start);
    if (pending.length > MAX_LINE_BYTES) throw new ArchiveFormatError('a key store line is too long');
  }
  if (pending.length > 0) throw new ArchiveFormatError('the key store part does not end with a newline');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(value: unknown): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw bad();
  const bytes = Buffer.from(value, 'base64');
  // Node's decoder skips what it cannot read; a round trip proves nothing was skipped.
  if (bytes.toString('base64') !== value) throw bad();
  return bytes;
}

function date(value: unknown): Date {
  if (typeof value !== 'string') throw bad();
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString() !== value) throw bad();
  return parsed;
}

function bad(): ArchiveFormatError {
  return new ArchiveFormatError('a key store line is not a private key record');
}
