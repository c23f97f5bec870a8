/**
 * Streaming encryption: header, then one sealed buffer per segment. A segment
 * is sealed only once at least one byte beyond it has arrived (it is then
 * known not to be the last); the remainder is sealed as the last segment on
 * flush. No async hop per segment: everything happens inside _transform.
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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

class SegmentEncryptStream extends Transform {
  readonly #cipher: SegmentCipher;
  readonly #header: Header;
  readonly #queue = new ChunkQueue();
  readonly #nonce = Buffer.alloc(12);
  #counter = 0;
  #headerSent = false;

  constructor(cipher: SegmentCipher, header: Header) {
    super({
      writableHighWaterMark: header.segmentSize,
      readableHighWaterMark: header.segmentSize + tagLength(header.algorithm),
    });
    this.#cipher = cipher;
    this.#header = header;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#sendHeader();
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
    this.push(this.#cipher.seal(nonce, this.#queue.takePieces(length)));
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
  const algorithm = options.algorithm ?? 'aes-256-gcm';
  assertAlgorithmAvailable(algorithm, options.allowLegacy ?? false);
  assertDek(dek);
  const segmentSize = validateSegmentSize(options.segmentSize ?? DEFAULT_SEGMENT_SIZE);
  const header = encodeHeader(algorithm, segmentSize, randomness.salt, randomness.noncePrefix);
  return new SegmentEncryptStream(createSegmentCipher(dek, header, associatedData), header);
}

export function createEncryptStream(
  dek: Buffer,
  associatedData: Buffer,
  options: EncryptStreamOptions = {},
): Transform {
  return createEncryptStreamWithRandomness(dek, associatedData, options, {
    salt: randomBytes(SALT_LENGTH),
    noncePrefix: randomBytes(NONCE_PREFIX_LENGTH),
  });
}
