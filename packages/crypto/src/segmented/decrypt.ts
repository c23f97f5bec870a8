/**
 * Streaming decryption. Each segment's plaintext is released only after its
 * tag verified; truncation shows up at the end of the stream, so a consumer
 * must treat the file as bad unless the stream finishes without error.
 * A segment is opened as "not last" only once bytes beyond it have arrived.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { assertAlgorithmAvailable } from '../algorithms.ts';
import { CryptoError, DecryptionFailedError } from '../errors.ts';
import { ChunkQueue } from './chunk-queue.ts';
import { HEADER_LENGTH, parseHeader, segmentNonce, tagLength, type Header } from './header.ts';
import { assertDek, createSegmentCipher, type SegmentCipher } from './segment-cipher.ts';

/** Policy errors (a disabled algorithm) pass through; everything else is opaque. */
export function toDecryptionError(error: unknown): Error {
  if (error instanceof CryptoError && error.code === 'ALGORITHM_DISABLED') return error;
  return new DecryptionFailedError();
}

interface OpenState {
  header: Header;
  cipher: SegmentCipher;
  sealedLength: number;
  tagLength: number;
}

class SegmentDecryptStream extends Transform {
  readonly #dek: Buffer;
  readonly #associatedData: Buffer;
  readonly #allowLegacy: boolean;
  readonly #queue = new ChunkQueue();
  readonly #nonce = Buffer.alloc(12);
  #state: OpenState | undefined;
  #counter = 0;

  constructor(dek: Buffer, associatedData: Buffer, allowLegacy: boolean) {
    super();
    this.#dek = dek;
    this.#associatedData = associatedData;
    this.#allowLegacy = allowLegacy;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#queue.push(chunk);
      const state = this.#state ?? this.#start();
      if (state !== undefined) {
        while (this.#queue.length > state.sealedLength) this.#open(state, state.sealedLength, false);
      }
      callback();
    } catch (error) {
      callback(toDecryptionError(error));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const state = this.#state ?? this.#start();
      if (state === undefined) throw new DecryptionFailedError();
      const remaining = this.#queue.length;
      // An empty final segment only exists in an empty file.
      if (remaining < state.tagLength || (this.#counter > 0 && remaining === state.tagLength)) {
        throw new DecryptionFailedError();
      }
      this.#open(state, remaining, true);
      callback();
    } catch (error) {
      callback(toDecryptionError(error));
    }
  }

  #start(): OpenState | undefined {
    if (this.#queue.length < HEADER_LENGTH) return undefined;
    const header = parseHeader(Buffer.concat(this.#queue.takePieces(HEADER_LENGTH)));
    assertAlgorithmAvailable(header.algorithm, this.#allowLegacy);
    const tag = tagLength(header.algorithm);
    const sealedLength = header.segmentSize + tag;
    this.#state = {
      header,
      cipher: createSegmentCipher(this.#dek, header, this.#associatedData),
      sealedLength,
      tagLength: tag,
    };
    return this.#state;
  }

  #open(state: OpenState, length: number, last: boolean): void {
    const nonce = segmentNonce(state.header.noncePrefix, this.#counter, last, this.#nonce);
    this.#counter += 1;
    // Opened from views into the received chunks (no copy), released only once verified.
    for (const plaintext of state.cipher.open(nonce, this.#queue.takePieces(length))) {
      if (plaintext.length > 0) this.push(plaintext);
    }
  }
}

export function createDecryptStream(
  dek: Buffer,
  associatedData: Buffer,
  options: { allowLegacy?: boolean } = {},
): Transform {
  assertDek(dek);
  return new SegmentDecryptStream(dek, Buffer.from(associatedData), options.allowLegacy ?? false);
}
