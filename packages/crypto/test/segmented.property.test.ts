import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptionFailedError, generateDek, HEADER_LENGTH, MODERN_ALGORITHMS, ciphertextSize } from '../src/index.ts';
import { decrypt, encrypt } from './helpers/streams.ts';

const AD = Buffer.from('file:property');

const scenario = fc.record({
  algorithm: fc.constantFrom(...MODERN_ALGORITHMS),
  segmentSize: fc.oneof(fc.integer({ min: 16, max: 80 }), fc.integer({ min: 16, max: 4096 })),
  size: fc.integer({ min: 0, max: 6000 }),
  chunks: fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 4 }),
});

describe('segmented AEAD properties', () => {
  it('round-trips any size, segment size and chunking', async () => {
    const dek = generateDek();
    await fc.assert(
      fc.asyncProperty(scenario, async ({ algorithm, segmentSize, size, chunks }) => {
        const plaintext = randomBytes(size);
        const ciphertext = await encrypt(dek, AD, plaintext, { algorithm, segmentSize }, chunks);
        expect(ciphertext.length).toBe(ciphertextSize(size, { algorithm, segmentSize }));
        expect((await decrypt(dek, AD, ciphertext, chunks.toReversed())).equals(plaintext)).toBe(true);
      }),
      { numRuns: 120 },
    );
  });

  it('rejects any single flipped bit, any truncation and any appended bytes', async () => {
    const dek = generateDek();
    await fc.assert(
      fc.asyncProperty(
        scenario,
        fc.nat(),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        async ({ algorithm, segmentSize, size }, flipAt, cutAt, extra) => {
          const ciphertext = await encrypt(dek, AD, randomBytes(size), { algorithm, segmentSize });
          const bit = flipAt % (ciphertext.length * 8);
          const flipped = Buffer.from(ciphertext);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          await expect(decrypt(dek, AD, flipped)).rejects.toThrow(DecryptionFailedError);
          const truncated = ciphertext.subarray(0, cutAt % ciphertext.length);
          await expect(decrypt(dek, AD, truncated)).rejects.toThrow(DecryptionFailedError);
          const extended = Buffer.concat([ciphertext, extra]);
          await expect(decrypt(dek, AD, extended)).rejects.toThrow(DecryptionFailedError);
          expect(ciphertext.length).toBeGreaterThan(HEADER_LENGTH);
        },
      ),
      { numRuns: 120 },
    );
  });
});
