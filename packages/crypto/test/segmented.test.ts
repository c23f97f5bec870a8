import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ciphertextSize,
  DecryptionFailedError,
  DEFAULT_SEGMENT_SIZE,
  generateDek,
  HEADER_LENGTH,
  InvalidKeyError,
  MODERN_ALGORITHMS,
  plaintextSize,
  createEncryptStream,
} from '../src/index.ts';
import { decrypt, encrypt } from './helpers/streams.ts';

const AD = Buffer.from('file:0b9d4e3c');
const SEG = 64;

function sealedSegments(ciphertext: Buffer, segmentSize: number): Buffer[] {
  const full = segmentSize + 16;
  const segments: Buffer[] = [];
  for (let offset = HEADER_LENGTH; offset < ciphertext.length; offset += full) {
    segments.push(ciphertext.subarray(offset, Math.min(offset + full, ciphertext.length)));
  }
  return segments;
}

async function expectRejected(dek: Buffer, ciphertext: Buffer, ad = AD): Promise<void> {
  await expect(decrypt(dek, ad, ciphertext)).rejects.toThrow(DecryptionFailedError);
}

describe.each(MODERN_ALGORITHMS)('segmented AEAD (%s)', (algorithm) => {
  const dek = generateDek();
  const options = { algorithm, segmentSize: SEG };

  it('round-trips empty input and sizes around segment boundaries', async () => {
    for (const size of [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG - 1, 2 * SEG, 2 * SEG + 1, 5 * SEG + 7]) {
      const plaintext = randomBytes(size);
      for (const sizes of [[size || 1], [1], [7, 64, 3], [SEG + 16]]) {
        const ciphertext = await encrypt(dek, AD, plaintext, options, sizes);
        expect(ciphertext.length).toBe(ciphertextSize(size, options));
        expect(plaintextSize(ciphertext.length, ciphertext.subarray(0, HEADER_LENGTH))).toBe(size);
        expect((await decrypt(dek, AD, ciphertext, sizes)).equals(plaintext)).toBe(true);
      }
    }
  });

  it('round-trips with the default 64 KiB segment around its boundaries', async () => {
    for (const size of [DEFAULT_SEGMENT_SIZE - 1, DEFAULT_SEGMENT_SIZE, DEFAULT_SEGMENT_SIZE + 1, 3 * DEFAULT_SEGMENT_SIZE]) {
      const plaintext = randomBytes(size);
      const ciphertext = await encrypt(dek, AD, plaintext, { algorithm }, [16384]);
      expect(ciphertext.length).toBe(ciphertextSize(size, { algorithm }));
      expect((await decrypt(dek, AD, ciphertext, [65536])).equals(plaintext)).toBe(true);
    }
  });

  it('never produces the same ciphertext twice', async () => {
    const plaintext = randomBytes(100);
    const a = await encrypt(dek, AD, plaintext, options);
    const b = await encrypt(dek, AD, plaintext, options);
    expect(a.equals(b)).toBe(false);
  });

  it('detects every flipped bit in the header and in a small body', async () => {
    const ciphertext = await encrypt(dek, AD, randomBytes(SEG + 5), options);
    for (let bit = 0; bit < ciphertext.length * 8; bit += ciphertext.length > 200 ? 3 : 1) {
      const tampered = Buffer.from(ciphertext);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      await expectRejected(dek, tampered);
    }
    // And all header bits, exhaustively.
    for (let bit = 0; bit < HEADER_LENGTH * 8; bit += 1) {
      const tampered = Buffer.from(ciphertext);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      await expectRejected(dek, tampered);
    }
  });

  it('detects truncation at every segment boundary and mid-segment', async () => {
    const ciphertext = await encrypt(dek, AD, randomBytes(3 * SEG + 10), options);
    const cuts = new Set<number>([0, 1, HEADER_LENGTH - 1, HEADER_LENGTH]);
    for (let k = 1; k <= 3; k += 1) {
      const boundary = HEADER_LENGTH + k * (SEG + 16);
      for (const delta of [-17, -16, -15, -1, 0, 1, -(SEG >> 1)]) cuts.add(boundary + delta);
    }
    cuts.add(ciphertext.length - 1);
    for (const cut of cuts) {
      if (cut < 0 || cut >= ciphertext.length) continue;
      await expectRejected(dek, ciphertext.subarray(0, cut));
    }
  });

  it('detects an AEAD tag truncated to 4, 8 or 12 bytes', async () => {
    for (const size of [0, 10, SEG]) {
      const ciphertext = await encrypt(dek, AD, randomBytes(size), options);
      for (const kept of [4, 8, 12]) {
        await expectRejected(dek, ciphertext.subarray(0, ciphertext.length - 16 + kept));
      }
    }
  });

  it('detects dropped, reordered and duplicated segments, and trailing bytes', async () => {
    const ciphertext = await encrypt(dek, AD, randomBytes(4 * SEG), options);
    const header = ciphertext.subarray(0, HEADER_LENGTH);
    const [s0, s1, s2, s3] = sealedSegments(ciphertext, SEG) as [Buffer, Buffer, Buffer, Buffer];
    const variants = [
      [s0, s2, s3], // dropped middle
      [s0, s1, s2], // dropped last (full-size truncation)
      [s1, s0, s2, s3], // swapped
      [s0, s1, s3, s2], // last moved
      [s0, s1, s1, s2, s3], // duplicated
      [s0, s1, s2, s3, s3], // last duplicated
    ];
    for (const segments of variants) await expectRejected(dek, Buffer.concat([header, ...segments]));
    for (const trailing of [Buffer.alloc(1), randomBytes(16), randomBytes(SEG + 16)]) {
      await expectRejected(dek, Buffer.concat([ciphertext, trailing]));
    }
  });

  it('detects headers and segments spliced from another file, and a wrong file id', async () => {
    const plaintext = randomBytes(2 * SEG + 3);
    const a = await encrypt(dek, AD, plaintext, options);
    const b = await encrypt(dek, AD, plaintext, options); // same key, same id, same content
    await expectRejected(dek, Buffer.concat([b.subarray(0, HEADER_LENGTH), a.subarray(HEADER_LENGTH)]));
    const [a0, a1, a2] = sealedSegments(a, SEG) as [Buffer, Buffer, Buffer];
    const [, b1] = sealedSegments(b, SEG) as [Buffer, Buffer, Buffer];
    await expectRejected(dek, Buffer.concat([a.subarray(0, HEADER_LENGTH), a0, b1, a2]));
    expect(a1.length).toBe(b1.length);
    await expectRejected(dek, a, Buffer.from('file:other'));
    await expectRejected(generateDek(), a);
  });

  it('validates the segment size and the DEK', () => {
    for (const segmentSize of [0, 15, 1024 * 1024 + 1, 1.5, Number.NaN]) {
      expect(() => createEncryptStream(dek, AD, { algorithm, segmentSize })).toThrow(InvalidKeyError);
    }
    expect(() => createEncryptStream(dek, AD, { algorithm, segmentSize: 16 })).not.toThrow();
    expect(() => createEncryptStream(dek, AD, { algorithm, segmentSize: 1024 * 1024 })).not.toThrow();
    expect(() => createEncryptStream(Buffer.alloc(16), AD, { algorithm })).toThrow(InvalidKeyError);
  });
});

describe('size arithmetic', () => {
  it('refuses non-canonical ciphertext sizes', async () => {
    const dek = generateDek();
    const ciphertext = await encrypt(dek, AD, randomBytes(2 * SEG), { segmentSize: SEG });
    const header = ciphertext.subarray(0, HEADER_LENGTH);
    expect(plaintextSize(ciphertext.length, header)).toBe(2 * SEG);
    // A lone tag after full segments is never produced by the encryptor.
    expect(() => plaintextSize(ciphertext.length + 16, header)).toThrow(DecryptionFailedError);
    expect(() => plaintextSize(HEADER_LENGTH + 15, header)).toThrow(DecryptionFailedError);
    expect(() => plaintextSize(ciphertext.length, header.subarray(0, 10))).toThrow(DecryptionFailedError);
    expect(ciphertextSize(0)).toBe(HEADER_LENGTH + 16);
    expect(ciphertextSize(DEFAULT_SEGMENT_SIZE)).toBe(HEADER_LENGTH + DEFAULT_SEGMENT_SIZE + 16);
    expect(ciphertextSize(DEFAULT_SEGMENT_SIZE + 1)).toBe(HEADER_LENGTH + DEFAULT_SEGMENT_SIZE + 1 + 32);
  });
});
