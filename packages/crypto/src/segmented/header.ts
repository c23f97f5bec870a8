/**
 * The fixed-size header at the front of every encrypted file, nonce layout
 * and size arithmetic. Byte format: FORMAT.md.
 */
import {
  algorithmFromId,
  algorithmId,
  isLegacyAlgorithm,
  type FileAlgorithm,
} from '../algorithms.ts';
import { AEAD_TAG_LENGTH } from '../aead.ts';
import { DecryptionFailedError, InvalidKeyError } from '../errors.ts';
import { LEGACY_TAG_LENGTH } from '../legacy.ts';

export const MAGIC = Buffer.from('SFES', 'ascii');
export const FORMAT_VERSION = 1;
export const SALT_LENGTH = 32;
export const NONCE_PREFIX_LENGTH = 7;
/** magic(4) version(1) algorithm(1) segmentSize(4) salt(32) noncePrefix(7) */
export const HEADER_LENGTH = 4 + 1 + 1 + 4 + SALT_LENGTH + NONCE_PREFIX_LENGTH;

export const DEFAULT_SEGMENT_SIZE = 262144;
export const MIN_SEGMENT_SIZE = 16;
export const MAX_SEGMENT_SIZE = 1024 * 1024;
/** The counter is 32 bits wide; a file never has more segments than this. */
export const MAX_SEGMENTS = 2 ** 32;

export interface Header {
  algorithm: FileAlgorithm;
  segmentSize: number;
  salt: Buffer;
  noncePrefix: Buffer;
  /** The exact header bytes; bound into the file key (see FORMAT.md). */
  bytes: Buffer;
}

export function isValidSegmentSize(size: number): boolean {
  return Number.isInteger(size) && size >= MIN_SEGMENT_SIZE && size <= MAX_SEGMENT_SIZE;
}

export function validateSegmentSize(size: number): number {
  if (!isValidSegmentSize(size)) {
    throw new InvalidKeyError(
      `segment size must be an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE} bytes`,
    );
  }
  return size;
}

export function tagLength(algorithm: FileAlgorithm): number {
  return isLegacyAlgorithm(algorithm) ? LEGACY_TAG_LENGTH : AEAD_TAG_LENGTH;
}

export function encodeHeader(
  algorithm: FileAlgorithm,
  segmentSize: number,
  salt: Buffer,
  noncePrefix: Buffer,
): Header {
  validateSegmentSize(segmentSize);
  if (salt.length !== SALT_LENGTH || noncePrefix.length !== NONCE_PREFIX_LENGTH) {
    throw new InvalidKeyError('header salt must be 32 bytes and nonce prefix 7 bytes');
  }
  const bytes = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt8(FORMAT_VERSION, 4);
  bytes.writeUInt8(algorithmId(algorithm), 5);
  bytes.writeUInt32BE(segmentSize, 6);
  salt.copy(bytes, 10);
  noncePrefix.copy(bytes, 10 + SALT_LENGTH);
  return parseHeader(bytes);
}

/** Any malformed header is a DecryptionFailedError: headers are attacker-controlled. */
export function parseHeader(input: Buffer): Header {
  if (input.length !== HEADER_LENGTH) throw new DecryptionFailedError();
  if (!input.subarray(0, 4).equals(MAGIC)) throw new DecryptionFailedError();
  if (input.readUInt8(4) !== FORMAT_VERSION) throw new DecryptionFailedError();
  const algorithm = algorithmFromId(input.readUInt8(5));
  if (algorithm === undefined) throw new DecryptionFailedError();
  const segmentSize = input.readUInt32BE(6);
  if (!isValidSegmentSize(segmentSize)) throw new DecryptionFailedError();
  const bytes = Buffer.from(input);
  return {
    algorithm,
    segmentSize,
    salt: bytes.subarray(10, 10 + SALT_LENGTH),
    noncePrefix: bytes.subarray(10 + SALT_LENGTH, HEADER_LENGTH),
    bytes,
  };
}

/**
 * nonce = noncePrefix(7) || counter (uint32 BE) || lastSegmentFlag (0x00 / 0x01).
 * Written into `into` when given: a stream reuses one buffer for all its
 * segments, which is safe because createCipheriv copies the IV.
 */
export function segmentNonce(noncePrefix: Buffer, counter: number, last: boolean, into?: Buffer): Buffer {
  if (!Number.isInteger(counter) || counter < 0 || counter >= MAX_SEGMENTS) {
    throw new RangeError('segment counter out of range');
  }
  const nonce = into ?? Buffer.allocUnsafe(12);
  noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(counter, NONCE_PREFIX_LENGTH);
  nonce.writeUInt8(last ? 1 : 0, 11);
  return nonce;
}

/** Segments in a file of `plaintextLength` bytes: an empty file still has one. */
export function segmentCount(plaintextLength: number, segmentSize: number): number {
  return plaintextLength === 0 ? 1 : Math.ceil(plaintextLength / segmentSize);
}

export function ciphertextSize(
  plaintextLength: number,
  options: { algorithm?: FileAlgorithm; segmentSize?: number } = {},
): number {
  const algorithm = options.algorithm ?? 'aes-256-gcm';
  const segmentSize = validateSegmentSize(options.segmentSize ?? DEFAULT_SEGMENT_SIZE);
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new RangeError('plaintext size must be a non-negative safe integer');
  }
  const segments = segmentCount(plaintextLength, segmentSize);
  if (segments > MAX_SEGMENTS) throw new RangeError('plaintext too large for this segment size');
  return HEADER_LENGTH + plaintextLength + segments * tagLength(algorithm);
}

export interface Layout {
  segments: number;
  /** Sealed length of every segment but the last. */
  fullSealedLength: number;
  lastSealedLength: number;
  plaintextLength: number;
}

/**
 * Segment layout implied by a total ciphertext size. Refuses sizes the
 * encryptor can never produce, including an empty final segment after full
 * ones, so every file has exactly one canonical encoding.
 */
export function layoutFor(totalCiphertextSize: number, header: Header): Layout {
  if (!Number.isSafeInteger(totalCiphertextSize)) throw new DecryptionFailedError();
  const tag = tagLength(header.algorithm);
  const body = totalCiphertextSize - HEADER_LENGTH;
  if (body < tag) throw new DecryptionFailedError();
  const fullSealedLength = header.segmentSize + tag;
  const segments = Math.ceil(body / fullSealedLength);
  const lastSealedLength = body - (segments - 1) * fullSealedLength;
  if (segments > MAX_SEGMENTS || lastSealedLength < tag) throw new DecryptionFailedError();
  if (segments > 1 && lastSealedLength === tag) throw new DecryptionFailedError();
  return { segments, fullSealedLength, lastSealedLength, plaintextLength: body - segments * tag };
}

export function plaintextSize(totalCiphertextSize: number, header: Buffer): number {
  return layoutFor(totalCiphertextSize, parseHeader(header.subarray(0, HEADER_LENGTH))).plaintextLength;
}
