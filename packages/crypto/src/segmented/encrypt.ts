/**
 * Streaming encryption: header, then each segment's ciphertext and tag. A
 * segment is sealed only once at least one byte beyond it has arrived (it is
 * then known not to be the last); the remainder is sealed as the last segment
 * on flush. Input is held by reference and the cipher's output pushed as it
 * comes (one buffer per input piece, then the 16-byte tag): nothing is copied.
 * No async hop per segment: everything happens inside _transform.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { assertAlgorithmAvailable, type FileAlgorithm } from '../algorithms.ts';
import { ChunkQueue } from './chunk-queue.ts';
import {
  DEFAULT_SEGMENT_SIZE,
  encodeHeader,
  NONCE_PREFIX_LENGTH,
  SALT_LENGTH,
  segmentNonce,
  tagLength,
  validateSegmentSize,
  type Header,
} from './header.ts';
import { assertDek, createSegmentCipher, type SegmentCipher } from './segment-cipher.ts';

export interface EncryptStreamOptions {
  algorithm?: FileAlgorithm;
  segmentSize?: number;
  allowLegacy?: boolean;
}

/** An encrypt stream that also hashes the plaintext it seals. */
export interface HashingEncryptStream extends Duplex {
  /** Hex SHA-256 of the whole plaintext; throws until the sealed output has ended. */
  plaintextSha256(): string;
}

class SegmentEncryptStream extends Transform implements HashingEncryptStream {
  readonly #cipher: SegmentCipher;
  readonly #header: Header;
  readonly #queue = new ChunkQueue();
  readonly #nonce = Buffer.alloc(12);
  readonly #hash: Hash | null;
  #sha256: string | null = null;
  #counter = 0;
  #headerSent = false;

  constructor(cipher: SegmentCipher, header: Header, hash: Hash | null = null) {
    super({
      writableHighWaterMark: header.segmentSize,
      readableHighWaterMark: header.segmentSize + tagLength(header.algorithm),
    });
    this.#cipher = cipher;
    this.#header = header;
    this.#hash = hash;
  }

  plaintextSha256(): string {
    if (this.#sha256 === null) throw new Error(this.#hash ? 'the stream has not ended' : 'this stream does not hash');
    return this.#sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#sendHeader();
      this.#hash?.update(chunk);
      this.#queue.push(chunk);
      const { segmentSize } = this.#header;
      while (this.#queue.length > segmentSize) this.#seal(segmentSize, false);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#sendHeader();
      this.#seal(this.#queue.length, true);
      if (this.#hash) this.#sha256 = this.#hash.digest('hex');
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #sendHeader(): void {
    if (this.#headerSent) return;
    this.#headerSent = true;
    this.push(this.#header.bytes);
  }

  #seal(length: number, last: boolean): void {
    const nonce = segmentNonce(this.#header.noncePrefix, this.#counter, last, this.#nonce);
    this.#counter += 1;
    for (const part of this.#cipher.seal(nonce, this.#queue.takePieces(length))) this.push(part);
  }
}

export interface StreamRandomness {
  salt: Buffer;
  noncePrefix: Buffer;
}

/**
 * Seam for known-answer files: the caller supplies the header randomness.
 * Not exported from the package entry point; applications must never choose it.
 */
export function createEncryptStreamWithRandomness(
  dek: Buffer,
  associatedData: Buffer,
  options: EncryptStreamOptions,
  randomness: StreamRandomness,
): Transform {
  const header = checkedHeader(dek, options, randomness);
  return new SegmentEncryptStream(createSegmentCipher(dek, header, associatedData), header);
}

/** Policy, DEK and segment-size checks shared by every encrypt stream; the header to write. */
export function checkedHeader(dek: Buffer, options: EncryptStreamOptions, randomness: StreamRandomness): Header {
  const algorithm = options.algorithm ?? 'aes-256-gcm';
  assertAlgorithmAvailable(algorithm, options.allowLegacy ?? false);
  assertDek(dek);
  const segmentSize = validateSegmentSize(options.segmentSize ?? DEFAULT_SEGMENT_SIZE);
  return encodeHeader(algorithm, segmentSize, randomness.salt, randomness.noncePrefix);
}

/** The in-thread stream, hashing the plaintext as it goes (the pool's fallback). */
export function createHashingEncryptStream(dek: Buffer, associatedData: Buffer, header: Header): HashingEncryptStream {
  return new SegmentEncryptStream(createSegmentCipher(dek, header, associatedData), header, createHash('sha256'));
}

export function freshRandomness(): StreamRandomness {
  return { salt: randomBytes(SALT_LENGTH), noncePrefix: randomBytes(NONCE_PREFIX_LENGTH) };
}

export function createEncryptStream(
  dek: Buffer,
  associatedData: Buffer,
  options: EncryptStreamOptions = {},
): Transform {
  return createEncryptStreamWithRandomness(dek, associatedData, options, freshRandomness());
}
