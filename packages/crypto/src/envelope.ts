/**
 * KEK ring and DEK wrapping (envelope encryption).
 *
 * Wrapped DEK, version 1 (69 bytes):
 *   version(1)=0x01 || keyId(8) || nonce(12) || AES-256-GCM(dek)(32) || tag(16)
 * with associated data = version || keyId || caller's associatedData, so the
 * blob names its KEK and fails to open on any other row.
 *
 * Key id: 'kek_' + hex of the first 8 bytes of HMAC-SHA256(kek, "SFE kek id v1").
 * Keyed by the KEK itself, so it is a commitment to a 256-bit random key and
 * reveals nothing useful about it.
 */
import { randomBytes } from 'node:crypto';
import { aeadOpen, aeadSeal } from './aead.ts';
import { DecryptionFailedError, InvalidKeyError, UnknownKeyIdError } from './errors.ts';
import { hmacSha256 } from './kdf.ts';

export const KEK_LENGTH = 32;
export const DEK_LENGTH = 32;
export const WRAPPED_DEK_VERSION = 1;

const KEY_ID_BYTES = 8;
const KEY_ID_PREFIX = 'kek_';
const KEY_ID_LABEL = Buffer.from('SFE kek id v1', 'ascii');
const NONCE_LENGTH = 12;
const WRAPPED_LENGTH = 1 + KEY_ID_BYTES + NONCE_LENGTH + DEK_LENGTH + 16;
const KEY_ID_PATTERN = /^kek_[0-9a-f]{16}$/;

const KEK_HEX_MESSAGE =
  'expected 64 hexadecimal characters (32 bytes), e.g. the output of `openssl rand -hex 32`';

/** Strict KEK decoding; the message never echoes the refused input. */
export function parseKek(hex: string): Buffer {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new InvalidKeyError(`invalid KEK: ${KEK_HEX_MESSAGE}`);
  }
  return Buffer.from(hex, 'hex');
}

function assertKek(kek: Buffer): void {
  if (!Buffer.isBuffer(kek) || kek.length !== KEK_LENGTH) {
    throw new InvalidKeyError(`invalid KEK: must be ${KEK_LENGTH} bytes`);
  }
}

function keyIdBytes(kek: Buffer): Buffer {
  return hmacSha256(kek, KEY_ID_LABEL).subarray(0, KEY_ID_BYTES);
}

export function kekId(kek: Buffer): string {
  assertKek(kek);
  return KEY_ID_PREFIX + keyIdBytes(kek).toString('hex');
}

/**
 * A KEK that lives outside this process (an HSM, a KMS): AES-256-GCM seal and open
 * happen where the key is, with the nonce and associated data given here, so a
 * wrapped DEK has the same format whichever holds the key. `keyId` follows the
 * 'kek_' + 16 hex pattern and must be a stable commitment to the key that reveals
 * nothing about it (computed by the holder, e.g. a MAC under the key).
 */
export interface ExternalKek {
  readonly keyId: string;
  /** AES-256-GCM: ciphertext || 16-byte tag. */
  seal(nonce: Buffer, plaintext: Buffer, associatedData: Buffer): Buffer;
  /** Throws DecryptionFailedError for any authentication failure. */
  open(nonce: Buffer, sealed: Buffer, associatedData: Buffer): Buffer;
}

export interface KekRing {
  readonly activeKeyId: string;
  has(keyId: string): boolean;
  keyIds(): string[];
}

type RingKey = Buffer | ExternalKek;

/** Key material lives here, not on the ring object, so it never ends up in a log line. */
const ringKeys = new WeakMap<KekRing, ReadonlyMap<string, RingKey>>();

function freezeRing(keys: Map<string, RingKey>, activeKeyId: string): KekRing {
  const ring: KekRing = Object.freeze({
    activeKeyId,
    has: (keyId: string) => keys.has(keyId),
    keyIds: () => [...keys.keys()],
  });
  ringKeys.set(ring, keys);
  return ring;
}

/** A ring whose keys are held elsewhere: wrapDek and unwrapDek call their seal and open. */
export function createExternalKekRing(active: ExternalKek, previous: ExternalKek[] = []): KekRing {
  const keys = new Map<string, RingKey>();
  for (const kek of [active, ...previous]) {
    if (!KEY_ID_PATTERN.test(kek.keyId)) throw new InvalidKeyError('invalid external KEK: key id must be kek_ and 16 hexadecimal characters');
    if (keys.has(kek.keyId)) throw new InvalidKeyError(`duplicate KEK in ring: ${kek.keyId}`);
    keys.set(kek.keyId, kek);
  }
  return freezeRing(keys, active.keyId);
}

export function createKekRing(active: Buffer, previous: Buffer[] = []): KekRing {
  const keys = new Map<string, RingKey>();
  for (const kek of [active, ...previous]) {
    const id = kekId(kek);
    if (keys.has(id)) throw new InvalidKeyError(`duplicate KEK in ring: ${id}`);
    keys.set(id, Buffer.from(kek));
  }
  return freezeRing(keys, kekId(active));
}

function keysOf(ring: KekRing): ReadonlyMap<string, RingKey> {
  const keys = ringKeys.get(ring);
  if (keys === undefined) throw new InvalidKeyError('not a KEK ring created by createKekRing');
  return keys;
}

function wrapAssociatedData(prefix: Buffer, associatedData: Buffer): Buffer {
  return Buffer.concat([prefix, associatedData]);
}

export function wrapDek(ring: KekRing, dek: Buffer, associatedData: Buffer): Buffer {
  if (!Buffer.isBuffer(dek) || dek.length !== DEK_LENGTH) {
    throw new InvalidKeyError(`DEK must be ${DEK_LENGTH} bytes`);
  }
  const kek = keysOf(ring).get(ring.activeKeyId);
  if (kek === undefined) throw new UnknownKeyIdError(ring.activeKeyId);
  const prefix = Buffer.alloc(1 + KEY_ID_BYTES);
  prefix.writeUInt8(WRAPPED_DEK_VERSION, 0);
  Buffer.from(ring.activeKeyId.slice(KEY_ID_PREFIX.length), 'hex').copy(prefix, 1);
  const nonce = randomBytes(NONCE_LENGTH);
  const aad = wrapAssociatedData(prefix, associatedData);
  const sealed = Buffer.isBuffer(kek) ? aeadSeal('aes-256-gcm', kek, nonce, dek, aad) : kek.seal(nonce, dek, aad);
  if (sealed.length !== DEK_LENGTH + 16) throw new InvalidKeyError('the KEK holder returned a sealed DEK of the wrong length');
  return Buffer.concat([prefix, nonce, sealed]);
}

/** The key id named by a wrapped DEK; DecryptionFailedError if it is not one. */
export function wrappedDekKeyId(wrapped: Buffer): string {
  if (!Buffer.isBuffer(wrapped) || wrapped.length !== WRAPPED_LENGTH) throw new DecryptionFailedError();
  if (wrapped.readUInt8(0) !== WRAPPED_DEK_VERSION) throw new DecryptionFailedError();
  const keyId = KEY_ID_PREFIX + wrapped.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
  if (!KEY_ID_PATTERN.test(keyId)) throw new DecryptionFailedError();
  return keyId;
}

export function unwrapDek(ring: KekRing, wrapped: Buffer, associatedData: Buffer): Buffer {
  const keyId = wrappedDekKeyId(wrapped);
  const kek = keysOf(ring).get(keyId);
  if (kek === undefined) throw new UnknownKeyIdError(keyId);
  const prefix = wrapped.subarray(0, 1 + KEY_ID_BYTES);
  const nonce = wrapped.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + NONCE_LENGTH);
  const sealed = wrapped.subarray(1 + KEY_ID_BYTES + NONCE_LENGTH);
  const aad = wrapAssociatedData(prefix, associatedData);
  if (Buffer.isBuffer(kek)) return aeadOpen('aes-256-gcm', kek, nonce, sealed, aad);
  const dek = kek.open(nonce, sealed, aad);
  if (dek.length !== DEK_LENGTH) throw new DecryptionFailedError();
  return dek;
}

export function generateDek(): Buffer {
  return randomBytes(DEK_LENGTH);
}
