/**
 * FORMAT.md known-answer files: decrypted by this package and by an
 * independent decryptor written only from FORMAT.md, and reproduced
 * byte-for-byte from the fixed parameters.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HEADER_LENGTH, MODERN_ALGORITHMS, plaintextSize, type FileAlgorithm } from '../src/index.ts';
import { decrypt } from './helpers/streams.ts';
import { KAT, katCiphertext, katPath } from './vectors/format-kat.ts';

const plaintext = Buffer.from(KAT.plaintext, 'hex');
const dek = Buffer.from(KAT.dek, 'hex');
const ad = Buffer.from(KAT.associatedData, 'hex');

/** Straight from FORMAT.md, using only node:crypto primitives. */
function referenceDecrypt(blob: Buffer, fileAd: Buffer): Buffer {
  const header = blob.subarray(0, 49);
  if (header.subarray(0, 4).toString('ascii') !== 'SFES' || header[4] !== 1) throw new Error('bad header');
  const algorithm = ({ 1: 'aes-256-gcm', 2: 'chacha20-poly1305' } as const)[header[5] as 1 | 2];
  const segmentSize = header.readUInt32BE(6);
  const salt = header.subarray(10, 42);
  const prefix = header.subarray(42, 49);
  const info = Buffer.concat([Buffer.from('SFE segmented file v1\0', 'ascii'), header]);
  const key = Buffer.from(hkdfSync('sha256', dek, salt, info, 32));
  const body = blob.subarray(49);
  const n = Math.ceil(body.length / (segmentSize + 16));
  const out: Buffer[] = [];
  for (let i = 0; i < n; i += 1) {
    const sealed = body.subarray(i * (segmentSize + 16), Math.min((i + 1) * (segmentSize + 16), body.length));
    const nonce = Buffer.concat([prefix, Buffer.from([0, 0, 0, 0]), Buffer.from([i === n - 1 ? 1 : 0])]);
    nonce.writeUInt32BE(i, 7);
    const decipher =
      algorithm === 'aes-256-gcm'
        ? createDecipheriv(algorithm, key, nonce, { authTagLength: 16 })
        : createDecipheriv(algorithm, key, nonce, { authTagLength: 16 });
    decipher.setAAD(fileAd, { plaintextLength: sealed.length - 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    out.push(decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final());
  }
  return Buffer.concat(out);
}

describe.each(MODERN_ALGORITHMS)('FORMAT.md known-answer file (%s)', (algorithm: FileAlgorithm) => {
  const blob = readFileSync(katPath(algorithm));

  it('has the documented layout', () => {
    expect(plaintext.length).toBe(100);
    expect(blob.length).toBe(HEADER_LENGTH + 100 + 4 * 16);
    const id = algorithm === 'aes-256-gcm' ? '01' : '02';
    expect(blob.subarray(0, 10).toString('hex')).toBe(`5346455301${id}00000020`);
    expect(blob.subarray(0, 4).toString('ascii')).toBe('SFES');
    expect(blob[4]).toBe(1);
    expect(blob[5]).toBe(algorithm === 'aes-256-gcm' ? 1 : 2);
    expect(blob.readUInt32BE(6)).toBe(KAT.segmentSize);
    expect(blob.subarray(10, 42).toString('hex')).toBe(KAT.salt);
    expect(blob.subarray(42, 49).toString('hex')).toBe(KAT.noncePrefix);
    expect(plaintextSize(blob.length, blob)).toBe(100);
  });

  it('decrypts to the known plaintext with this package', async () => {
    expect((await decrypt(dek, ad, blob, [13])).equals(plaintext)).toBe(true);
  });

  it('decrypts to the known plaintext with the FORMAT.md reference decryptor', () => {
    expect(referenceDecrypt(blob, ad).equals(plaintext)).toBe(true);
    expect(() => referenceDecrypt(blob, Buffer.from('file:other'))).toThrow();
  });

  it('is reproduced byte-for-byte by the encryptor', async () => {
    expect((await katCiphertext(algorithm)).equals(blob)).toBe(true);
  });
});
