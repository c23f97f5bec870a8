/**
 * Range decryption: reads the header and only the segments a plaintext byte
 * range touches, verifies each, and yields exactly bytes start..end.
 * Whether a segment is the last one follows from the total ciphertext size,
 * which the caller must take from its own records, not from the blob store.
 */
import { Readable } from 'node:stream';
import { assertAlgorithmAvailable } from '../algorithms.ts';
import { joinPieces } from '../aead.ts';
import { DecryptionFailedError } from '../errors.ts';
import { ChunkQueue } from './chunk-queue.ts';
import { HEADER_LENGTH, layoutFor, parseHeader, segmentNonce } from './header.ts';
import { assertDek, createSegmentCipher } from './segment-cipher.ts';
import { toDecryptionError } from './decrypt.ts';

export interface RangeDecryptOptions {
  dek: Buffer;
  associatedData: Buffer;
  allowLegacy?: boolean;
  ciphertextSize: number;
  start: number;
  end: number;
  read: (offset: number, length: number) => NodeJS.ReadableStream | Readable;
}

async function readExactly(source: NodeJS.ReadableStream | Readable, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += bytes.length;
    if (total > length) throw new DecryptionFailedError();
    chunks.push(bytes);
  }
  if (total !== length) throw new DecryptionFailedError();
  return Buffer.concat(chunks, total);
}

async function* decryptRange(options: RangeDecryptOptions): AsyncGenerator<Buffer> {
  const { start, end } = options;
  const header = parseHeader(await readExactly(options.read(0, HEADER_LENGTH), HEADER_LENGTH));
  assertAlgorithmAvailable(header.algorithm, options.allowLegacy ?? false);
  const layout = layoutFor(options.ciphertextSize, header);
  if (end >= layout.plaintextLength) throw new RangeError('range end is past the plaintext');

  const { segmentSize } = header;
  const first = Math.floor(start / segmentSize);
  const last = Math.floor(end / segmentSize);
  const offset = HEADER_LENGTH + first * layout.fullSealedLength;
  const stop = Math.min(HEADER_LENGTH + (last + 1) * layout.fullSealedLength, options.ciphertextSize);
  const cipher = createSegmentCipher(options.dek, header, options.associatedData);
  const scratch = Buffer.allocUnsafe(layout.fullSealedLength);
  const queue = new ChunkQueue();
  let index = first;

  const sealedLengthOf = (i: number): number =>
    i === layout.segments - 1 ? layout.lastSealedLength : layout.fullSealedLength;

  let received = 0;
  for await (const chunk of options.read(offset, stop - offset)) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    received += bytes.length;
    if (received > stop - offset) throw new DecryptionFailedError();
    queue.push(bytes);
    while (index <= last && queue.length >= sealedLengthOf(index)) {
      const isLast = index === layout.segments - 1;
      const sealed = queue.takeContiguous(sealedLengthOf(index), scratch);
      const plaintext = joinPieces(cipher.open(segmentNonce(header.noncePrefix, index, isLast), [sealed]));
      const segmentStart = index * segmentSize;
      const from = Math.max(start - segmentStart, 0);
      const to = Math.min(end - segmentStart + 1, plaintext.length);
      index += 1;
      if (to > from) yield plaintext.subarray(from, to);
    }
  }
  if (index !== last + 1 || queue.length !== 0) throw new DecryptionFailedError();
}

export function createRangeDecryptStream(options: RangeDecryptOptions): Readable {
  assertDek(options.dek);
  const { start, end, ciphertextSize } = options;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError('range must satisfy 0 <= start <= end');
  }
  if (!Number.isSafeInteger(ciphertextSize) || ciphertextSize < HEADER_LENGTH) {
    throw new RangeError('ciphertext size is invalid');
  }
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      yield* decryptRange(options);
    } catch (error) {
      throw error instanceof RangeError ? error : toDecryptionError(error);
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}
