/**
 * Legacy segment sealing for the seed's DES and RC4 files: encrypt-then-MAC
 * with HMAC-SHA256 over nonce, associated data and ciphertext. Neither cipher
 * takes a usable nonce, so each segment gets its own cipher key (and IV) from
 * HMAC(encryptionKey, nonce): a keystream is never reused across segments.
 * Both modes are length-preserving (DES in 64-bit CFB), so segment arithmetic
 * is identical to the AEAD modes, only with a 32-byte tag.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { LEGACY_CIPHER_NAMES, type LegacyAlgorithm } from './algorithms.ts';
import { DecryptionFailedError } from './errors.ts';
import { hmacSha256, verifyHmacSha256 } from './kdf.ts';

export const LEGACY_TAG_LENGTH = 32;

export interface LegacyKeys {
  encryptionKey: Buffer;
  macKey: Buffer;
}

function segmentCipherParameters(
  algorithm: LegacyAlgorithm,
  encryptionKey: Buffer,
  nonce: Buffer,
): { key: Buffer; iv: Buffer | null } {
  const material = hmacSha256(encryptionKey, nonce);
  return algorithm === 'des'
    ? { key: material.subarray(0, 8), iv: material.subarray(8, 16) }
    : { key: material.subarray(0, 16), iv: null };
}

function lengthPrefix(associatedData: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(BigInt(associatedData.length));
  return prefix;
}

export function legacySeal(
  algorithm: LegacyAlgorithm,
  keys: LegacyKeys,
  nonce: Buffer,
  pieces: readonly Buffer[],
  associatedData: Buffer,
): Buffer {
  const { key, iv } = segmentCipherParameters(algorithm, keys.encryptionKey, nonce);
  const cipher = createCipheriv(LEGACY_CIPHER_NAMES[algorithm], key, iv);
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const sealed = Buffer.allocUnsafe(length + LEGACY_TAG_LENGTH);
  let offset = 0;
  for (const piece of pieces) offset += cipher.update(piece).copy(sealed, offset);
  offset += cipher.final().copy(sealed, offset);
  if (offset !== length) throw new Error('legacy cipher is not length-preserving');
  const ciphertext = sealed.subarray(0, length);
  hmacSha256(keys.macKey, nonce, lengthPrefix(associatedData), associatedData, ciphertext).copy(
    sealed,
    length,
  );
  return sealed;
}

export function legacyOpen(
  algorithm: LegacyAlgorithm,
  keys: LegacyKeys,
  nonce: Buffer,
  sealed: Buffer,
  associatedData: Buffer,
): Buffer {
  if (sealed.length < LEGACY_TAG_LENGTH) throw new DecryptionFailedError();
  const ciphertext = sealed.subarray(0, sealed.length - LEGACY_TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - LEGACY_TAG_LENGTH);
  const authentic = verifyHmacSha256(
    keys.macKey,
    tag,
    nonce,
    lengthPrefix(associatedData),
    associatedData,
    ciphertext,
  );
  if (!authentic) throw new DecryptionFailedError();
  try {
    const { key, iv } = segmentCipherParameters(algorithm, keys.encryptionKey, nonce);
    const decipher = createDecipheriv(LEGACY_CIPHER_NAMES[algorithm], key, iv);
    const plaintext = decipher.update(ciphertext);
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    throw new DecryptionFailedError();
  }
}
