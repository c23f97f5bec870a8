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

/** Pieces as one buffer: the piece itself when there is one (no copy), else a concatenation. */
export function joinPieces(pieces: readonly Buffer[]): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
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
 * Encrypts `plaintext` (pieces read in order) without copying it or the
 * output: returns the ciphertext as pieces with the tag last, whose
 * concatenation is exactly `aeadSeal`'s result. The streams use it, so a
 * segment costs no allocation or copy beyond the cipher's own output.
 */
export function aeadSealPieces(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  pieces: readonly Buffer[],
  associatedData: Buffer,
): Buffer[] {
  checkParameters(algorithm, key, nonce);
  let length = 0;
  for (const piece of pieces) length += piece.length;

  const cipher = createSealer(algorithm, key, nonce);
  if (associatedData.length > 0) cipher.setAAD(associatedData, { plaintextLength: length });
  const out: Buffer[] = [];
  for (const piece of pieces) {
    if (piece.length > 0) out.push(cipher.update(piece));
  }
  // Both modes are stream modes: final() never emits bytes, but stay honest.
  const rest = cipher.final();
  if (rest.length > 0) out.push(rest);
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * Encrypts `plaintext` (one buffer or several pieces read in order) and returns
 * ONE buffer `ciphertext || tag`: a sealed record (a wrapped DEK, a protected
 * private key) is stored and sent whole.
 */
export function aeadSeal(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  plaintext: Buffer | readonly Buffer[],
  associatedData: Buffer,
): Buffer {
  const parts = aeadSealPieces(algorithm, key, nonce, Buffer.isBuffer(plaintext) ? [plaintext] : plaintext, associatedData);
  return joinPieces(parts);
}

/**
 * Opens `ciphertext || tag` given as pieces in order (the tag may straddle
 * them) and returns the plaintext as pieces, copying nothing but the tag.
 * Any failure (short input, bad tag, wrong key, nonce or associated data) is
 * the same DecryptionFailedError; no plaintext is returned unless the tag
 * verified.
 */
export function aeadOpenPieces(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  pieces: readonly Buffer[],
  associatedData: Buffer,
): Buffer[] {
  checkParameters(algorithm, key, nonce);
  let length = 0;
  for (const piece of pieces) length += piece.length;
  if (length < AEAD_TAG_LENGTH) throw new DecryptionFailedError();
  const ciphertextLength = length - AEAD_TAG_LENGTH;
  // The tag: the last AEAD_TAG_LENGTH bytes, wherever the piece boundaries fall.
  const last = pieces.at(-1);
  let tag: Buffer;
  if (last !== undefined && last.length >= AEAD_TAG_LENGTH) {
    tag = last.subarray(last.length - AEAD_TAG_LENGTH);
  } else {
    tag = Buffer.alloc(AEAD_TAG_LENGTH);
    let offset = 0;
    for (const piece of pieces) {
      const from = Math.max(ciphertextLength - offset, 0);
      if (from < piece.length) piece.copy(tag, offset + from - ciphertextLength, from);
      offset += piece.length;
    }
  }
  try {
    const decipher = createOpener(algorithm, key, nonce);
    decipher.setAuthTag(tag);
    if (associatedData.length > 0) {
      decipher.setAAD(associatedData, { plaintextLength: ciphertextLength });
    }
    const out: Buffer[] = [];
    let offset = 0;
    for (const piece of pieces) {
      const end = Math.min(piece.length, ciphertextLength - offset);
      if (end > 0) out.push(decipher.update(end === piece.length ? piece : piece.subarray(0, end)));
      offset += piece.length;
    }
    const rest = decipher.final();
    if (rest.length > 0) out.push(rest);
    return out;
  } catch {
    throw new DecryptionFailedError();
  }
}

/** Opens one sealed record `ciphertext || tag` into one plaintext buffer; see aeadOpenPieces. */
export function aeadOpen(
  algorithm: AeadAlgorithm,
  key: Buffer | KeyObject,
  nonce: Buffer,
  sealed: Buffer,
  associatedData: Buffer,
): Buffer {
  const parts = aeadOpenPieces(algorithm, key, nonce, [sealed], associatedData);
  return joinPieces(parts);
}
