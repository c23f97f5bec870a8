import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRangeDecryptStream,
  DecryptionFailedError,
  generateDek,
  HEADER_LENGTH,
  MODERN_ALGORITHMS,
} from '../src/index.ts';
import { collect, encrypt } from './helpers/streams.ts';

const AD = Buffer.from('file:range');

function reader(blob: Buffer, log: Array<[number, number]> = [], chunk = 37) {
  return (offset: number, length: number): Readable => {
    log.push([offset, length]);
    const bytes = blob.subarray(offset, offset + length);
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
    return Readable.from(pieces, { objectMode: false });
  };
}

function range(dek: Buffer, blob: Buffer, start: number, end: number, log?: Array<[number, number]>, ad = AD): Promise<Buffer> {
  return collect(
    createRangeDecryptStream({ dek, associatedData: ad, ciphertextSize: blob.length, start, end, read: reader(blob, log) }),
  );
}

describe.each(MODERN_ALGORITHMS)('range decrypt (%s)', (algorithm) => {
  const dek = generateDek();
  const segmentSize = 100;

  it('yields exactly the requested bytes and reads only the touched segments', async () => {
    const plaintext = randomBytes(1000);
    const blob = await encrypt(dek, AD, plaintext, { algorithm, segmentSize });
    const log: Array<[number, number]> = [];
    expect((await range(dek, blob, 250, 420, log)).equals(plaintext.subarray(250, 421))).toBe(true);
    // Header, then segments 2..4 only.
    expect(log).toEqual([
      [0, HEADER_LENGTH],
      [HEADER_LENGTH + 2 * 116, 3 * 116],
    ]);
    expect((await range(dek, blob, 999, 999)).equals(plaintext.subarray(999))).toBe(true);
    expect((await range(dek, blob, 0, 999)).equals(plaintext)).toBe(true);
  });

  it('matches a slice of the plaintext for arbitrary ranges', async () => {
    const plaintext = randomBytes(777);
    const blob = await encrypt(dek, AD, plaintext, { algorithm, segmentSize });
    await fc.assert(
      fc.asyncProperty(fc.nat(776), fc.nat(776), async (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        expect((await range(dek, blob, start, end)).equals(plaintext.subarray(start, end + 1))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects tampered segments, a wrong file id, a wrong size and a short read', async () => {
    const plaintext = randomBytes(450);
    const blob = await encrypt(dek, AD, plaintext, { algorithm, segmentSize });
    const tampered = Buffer.from(blob);
    tampered[HEADER_LENGTH + 116 + 5]! ^= 1;
    await expect(range(dek, tampered, 120, 130)).rejects.toThrow(DecryptionFailedError);
    await expect(range(dek, blob, 120, 130, undefined, Buffer.from('file:other'))).rejects.toThrow(DecryptionFailedError);
    // A size that claims the last segment is a middle one: the last-segment flag catches it.
    const truncated = blob.subarray(0, HEADER_LENGTH + 4 * 116);
    await expect(range(dek, truncated, 300, 310)).rejects.toThrow(DecryptionFailedError);
    const short = createRangeDecryptStream({
      dek, associatedData: AD, ciphertextSize: blob.length, start: 0, end: 449,
      read: (offset, length) => reader(blob)(offset, Math.max(0, length - 1)),
    });
    await expect(collect(short)).rejects.toThrow(DecryptionFailedError);
  });
});
