/**
 * Single-record AEAD: the primitive every sealed value in this package uses
 * (stream segments, wrapped DEKs, protected private keys). Kept tiny so the
 * Wycheproof vectors exercise exactly the code path the stream runs.
 */
import {
  createCipheriv,
  createDecipheriv,
  type CipherGCM,
  type CipherChaCha20Poly1305,
  type DecipherGCM,
  type DecipherChaCha20Poly1305,
  type KeyObject,
} from 'node:crypto';
import { DecryptionFailedError, InvalidKeyError } from './errors.ts';

export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305';

export const AEAD_KEY_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 12;
/** Always full-length tags: Node accepts truncated GCM tags unless told otherwise. */
export const AEAD_TAG_LENGTH = 16;

function keyLength(key: Buffer | KeyObject): number {
  return Buffer.isBuffer(key) ? key.length : (key.symmetricKeySize ?? -1);
}

/** Shared by every cipher: node:crypto only reads it. */
const CIPHER_OPTIONS = { authTagLength: AEAD_TAG_LENGTH };

// Separate literal calls: @types/node only types authTagLength per literal name.
function createSealer(algorithm: AeadAlgorithm, key: Buffer | KeyObject, nonce: Buffer): CipherGCM | CipherChaCha20Poly1305 {
  return algorithm === 'aes-256-gcm'
    ? createCipheriv('aes-256-gcm', key, nonce, CIPHER_OPTIONS)
    : createCipheriv('chacha20-poly1305', key, nonce, CIPHER_OPTIONS);
}

function createOpener(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
): DecipherGCM | DecipherChaCha20Poly1305 {
  return algorithm === 'aes-256-gcm'
    ? createDecipheriv('aes-256-gcm', key, nonce, CIPHER_OPTIONS)
    : createDecipheriv('chacha20-poly1305', key, nonce, CIPHER_OPTIONS);
}

function checkParameters(algorithm: AeadAlgorithm, key: Buffer | KeyObject, nonce: Buffer): void {
  if (algorithm !== 'aes-256-gcm' && algorithm !== 'chacha20-poly1305') {
    throw new InvalidKeyError('unsupported AEAD algorithm');
  }
  if (keyLength(key) !== AEAD_KEY_LENGTH) {
    throw new InvalidKeyError(`AEAD key must be ${AEAD_KEY_LENGTH} bytes`);
  }
  if (nonce.length !== AEAD_NONCE_LENGTH) {
    throw new InvalidKeyError(`AEAD nonce must be ${AEAD_NONCE_LENGTH} bytes`);
  }
}

/**
 * Encrypts `plaintext` (one buffer or several pieces read in order) and returns
 * ONE buffer `ciphertext || tag`, allocated once: downstream writes cost per
 * chunk, so a segment must never be emitted as two buffers.
 */
export function aeadSeal(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  plaintext: Buffer | readonly Buffer[],
  associatedData: Buffer,
): Buffer {
  checkParameters(algorithm, key, nonce);
  const pieces: readonly Buffer[] = Buffer.isBuffer(plaintext) ? [plaintext] : plaintext;
  let length = 0;
  for (const piece of pieces) length += piece.length;

  const cipher = createSealer(algorithm, key, nonce);
  if (associatedData.length > 0) cipher.setAAD(associatedData, { plaintextLength: length });
  const sealed = Buffer.allocUnsafe(length + AEAD_TAG_LENGTH);
  let offset = 0;
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    offset += cipher.update(piece).copy(sealed, offset);
  }
  // Both modes are stream modes: final() never emits bytes, but stay honest.
  offset += cipher.final().copy(sealed, offset);
  if (offset !== length) throw new Error('AEAD produced an unexpected ciphertext length');
  cipher.getAuthTag().copy(sealed, length);
  return sealed;
}

/**
 * Opens `ciphertext || tag`. Any failure (short input, bad tag, wrong key,
 * nonce or associated data) is the same DecryptionFailedError; no plaintext
 * is returned unless the tag verified.
 */
export function aeadOpen(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  sealed: Buffer,
  associatedData: Buffer,
): Buffer {
  checkParameters(algorithm, key, nonce);
  if (sealed.length < AEAD_TAG_LENGTH) throw new DecryptionFailedError();
  const ciphertextLength = sealed.length - AEAD_TAG_LENGTH;
  try {
    const decipher = createOpener(algorithm, key, nonce);
    decipher.setAuthTag(sealed.subarray(ciphertextLength));
    if (associatedData.length > 0) {
      decipher.setAAD(associatedData, { plaintextLength: ciphertextLength });
    }
    const plaintext = decipher.update(sealed.subarray(0, ciphertextLength));
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    throw new DecryptionFailedError();
  }
}
