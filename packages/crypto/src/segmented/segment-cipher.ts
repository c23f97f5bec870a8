/**
 * Per-file segment sealing. The file key is derived from the DEK with HKDF
 * over the whole header, so any header change (salt, prefix, segment size,
 * algorithm) yields a different key and the first segment fails; the
 * associated data (the file id) is authenticated on every segment.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { aeadOpenPieces, aeadSealPieces, joinPieces } from '../aead.ts';
import { isLegacyAlgorithm } from '../algorithms.ts';
import { InvalidKeyError } from '../errors.ts';
import { hkdfSha256 } from '../kdf.ts';
import { legacyOpen, legacySeal, type LegacyKeys } from '../legacy.ts';
import type { Header } from './header.ts';

const INFO_LABEL = Buffer.from('SFE segmented file v1\0', 'ascii');
export const DEK_LENGTH = 32;

/**
 * Seals and opens one segment given as pieces (views into the stream's
 * chunks), returning pieces: `ciphertext || tag` and the plaintext. The AEAD
 * ciphers copy nothing; concatenated, the output is the segment FORMAT.md
 * defines, however the input was cut.
 */
export interface SegmentCipher {
  seal(nonce: Buffer, pieces: readonly Buffer[]): Buffer[];
  open(nonce: Buffer, pieces: readonly Buffer[]): Buffer[];
}

export function assertDek(dek: Buffer): void {
  if (!Buffer.isBuffer(dek) || dek.length !== DEK_LENGTH) {
    throw new InvalidKeyError(`DEK must be ${DEK_LENGTH} bytes`);
  }
}

/** fileKey = HKDF-SHA256(DEK, header.salt, label || header, length): FORMAT.md "Keys". */
export function deriveFileKey(dek: Buffer, header: Header, length: 32 | 64): Buffer {
  assertDek(dek);
  return hkdfSha256(dek, header.salt, Buffer.concat([INFO_LABEL, header.bytes]), length);
}

export function createSegmentCipher(dek: Buffer, header: Header, associatedData: Buffer): SegmentCipher {
  assertDek(dek);
  const ad = Buffer.from(associatedData);
  const { algorithm } = header;
  if (isLegacyAlgorithm(algorithm)) {
    const material = deriveFileKey(dek, header, 64);
    const keys: LegacyKeys = { encryptionKey: material.subarray(0, 32), macKey: material.subarray(32) };
    return {
      seal: (nonce, pieces) => [legacySeal(algorithm, keys, nonce, pieces, ad)],
      open: (nonce, pieces) => [legacyOpen(algorithm, keys, nonce, joinPieces(pieces), ad)],
    };
  }
  const key: KeyObject = createSecretKey(deriveFileKey(dek, header, 32));
  return {
    seal: (nonce, pieces) => aeadSealPieces(algorithm, key, nonce, pieces, ad),
    open: (nonce, pieces) => aeadOpenPieces(algorithm, key, nonce, pieces, ad),
  };
}
