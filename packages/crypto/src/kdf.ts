/**
 * Thin wrappers over node:crypto's KDF and MAC primitives, so the Wycheproof
 * vectors run against the same functions the rest of the package calls.
 * PBKDF2 and scrypt run on the background threads (background-threads.ts): never
 * on the event loop, never on libuv's pool, and below the priority of everything else.
 */
import { createHmac, hkdfSync, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { InvalidKeyError } from './errors.ts';
import { backgroundThreads } from './background-threads.ts';

function passwordBytes(password: BinaryLike): Uint8Array {
  if (typeof password === 'string') return Buffer.from(password, 'utf8');
  if (ArrayBuffer.isView(password)) return new Uint8Array(password.buffer, password.byteOffset, password.byteLength);
  throw new TypeError('password must be a string or a buffer');
}

const SHA256_LENGTH = 32;
const HKDF_MAX_LENGTH = 255 * SHA256_LENGTH;

/** RFC 5869 HKDF-SHA256. Synchronous: it is a handful of HMAC calls. */
export function hkdfSha256(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_MAX_LENGTH) {
    throw new InvalidKeyError(`HKDF output length must be 1..${HKDF_MAX_LENGTH} bytes`);
  }
  if (info.length > 1024) throw new InvalidKeyError('HKDF info must be at most 1024 bytes');
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** HMAC-SHA256 over the concatenation of `parts` (never materialised). */
export function hmacSha256(key: Buffer, ...parts: readonly Buffer[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** Constant-time check of a full 32-byte tag; shorter tags are refused. */
export function verifyHmacSha256(key: Buffer, tag: Buffer, ...parts: readonly Buffer[]): boolean {
  const expected = hmacSha256(key, ...parts);
  return tag.length === SHA256_LENGTH && timingSafeEqual(expected, tag);
}

export function pbkdf2Sha256(
  password: BinaryLike,
  salt: Buffer,
  iterations: number,
  length: number,
): Promise<Buffer> {
  return backgroundThreads().derive({ kind: 'pbkdf2', password: passwordBytes(password), salt, iterations, length });
}

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** Memory scrypt needs (128·N·r·p for V plus the B blocks), with headroom. */
export function scryptMaxmem(cost: ScryptCost): number {
  return 128 * cost.N * cost.r + 128 * cost.r * cost.p + 32 * 1024 * 1024;
}

export function scryptKey(
  password: BinaryLike,
  salt: Buffer,
  cost: ScryptCost,
  length: number,
): Promise<Buffer> {
  const { N, r, p } = cost;
  return backgroundThreads().derive({ kind: 'scrypt', password: passwordBytes(password), salt, length, N, r, p, maxmem: scryptMaxmem(cost) });
}
