/**
 * Project Wycheproof known-answer tests run against our own wrappers.
 * Vectors whose parameters our API never accepts are filtered by that
 * parameter; counts run and filtered are printed.
 */
import { describe, expect, it } from 'vitest';
import { aeadOpen, aeadOpenPieces, aeadSeal, aeadSealPieces, type AeadAlgorithm } from '../src/aead.ts';
import { DecryptionFailedError } from '../src/errors.ts';
import { hkdfSha256, hmacSha256, pbkdf2Sha256, verifyHmacSha256 } from '../src/kdf.ts';
import { rsaOaepDecrypt, rsaUnwrapDek } from '../src/rsa.ts';
import { hex, loadVectors, VectorTally } from './helpers/wycheproof.ts';

/** `data` cut at `cuts` (clamped, any order), empty pieces included: how a stream may deliver it. */
function cut(data: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => Math.min(Math.max(c, 0), data.length)).sort((a, b) => a - b), data.length];
  return points.slice(1).map((end, i) => data.subarray(points[i], end));
}

/** Cut points that put boundaries at the start, the middle, and inside the tag of a sealed record. */
const sealedCuts = (length: number): number[][] => [[], [0], [length >> 1], [length - 16, length - 9], [length - 1], [1, length - 15, length - 3]];

function aeadSuite(file: string, algorithm: AeadAlgorithm): void {
  it(`${algorithm}: every valid vector matches, every invalid one is rejected`, () => {
    const vectors = loadVectors(file);
    const tally = new VectorTally(file);
    for (const group of vectors.testGroups) {
      for (const test of group.tests) {
        if (group.keySize !== 256) { tally.filter('keySize != 256'); continue; }
        if (group.ivSize !== 96) { tally.filter('ivSize != 96'); continue; }
        if (group.tagSize !== 128) { tally.filter('tagSize != 128'); continue; }
        tally.count(test.result);
        const [key, nonce, aad, msg, ct, tag] = ['key', 'iv', 'aad', 'msg', 'ct', 'tag'].map((f) => hex(test[f])) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
        const sealed = Buffer.concat([ct, tag]);
        const label = `tcId ${test.tcId} ${test.comment}`;
        if (test.result === 'valid') {
          expect(aeadSeal(algorithm, key, nonce, msg, aad).equals(sealed), label).toBe(true);
          expect(aeadOpen(algorithm, key, nonce, sealed, aad).equals(msg), label).toBe(true);
          // The streams' path: the same answers however the input is cut, the tag included.
          const pieces = cut(msg, [msg.length >> 2, msg.length >> 1]);
          expect(Buffer.concat(aeadSealPieces(algorithm, key, nonce, pieces, aad)).equals(sealed), label).toBe(true);
          for (const cuts of sealedCuts(sealed.length)) {
            expect(Buffer.concat(aeadOpenPieces(algorithm, key, nonce, cut(sealed, cuts), aad)).equals(msg), label).toBe(true);
          }
        } else {
          expect(() => aeadOpen(algorithm, key, nonce, sealed, aad), label).toThrow(DecryptionFailedError);
          for (const cuts of sealedCuts(sealed.length)) {
            expect(() => aeadOpenPieces(algorithm, key, nonce, cut(sealed, cuts), aad), label).toThrow(DecryptionFailedError);
          }
        }
      }
    }
    console.log(tally.report());
    expect(tally.run).toBeGreaterThan(50);
    expect(tally.invalid).toBeGreaterThan(10);
  });
}

describe('Wycheproof AEAD', () => {
  aeadSuite('aes_gcm_test.json', 'aes-256-gcm');
  aeadSuite('chacha20_poly1305_test.json', 'chacha20-poly1305');

  it('rejects tags truncated to 4, 8 and 12 bytes', () => {
    const key = Buffer.alloc(32, 1);
    const nonce = Buffer.alloc(12, 2);
    for (const algorithm of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
      const sealed = aeadSeal(algorithm, key, nonce, Buffer.from('attack at dawn'), Buffer.from('ad'));
      for (const cut of [4, 8, 12]) {
        const short = sealed.subarray(0, sealed.length - 16 + cut);
        expect(() => aeadOpen(algorithm, key, nonce, short, Buffer.from('ad'))).toThrow(DecryptionFailedError);
      }
    }
  });
});

describe('Wycheproof KDF and MAC', () => {
  it('HKDF-SHA256', () => {
    const tally = new VectorTally('hkdf_sha256_test.json');
    for (const group of loadVectors('hkdf_sha256_test.json').testGroups) {
      for (const test of group.tests) {
        tally.count(test.result);
        const run = (): Buffer => hkdfSha256(hex(test.ikm), hex(test.salt), hex(test.info), test.size as number);
        if (test.result === 'valid') expect(run().toString('hex'), `tcId ${test.tcId}`).toBe(test.okm);
        else expect(run, `tcId ${test.tcId}`).toThrow();
      }
    }
    console.log(tally.report());
    expect(tally.invalid).toBeGreaterThan(0);
  });

  it('HMAC-SHA256 (full 256-bit tags only)', () => {
    const tally = new VectorTally('hmac_sha256_test.json');
    for (const group of loadVectors('hmac_sha256_test.json').testGroups) {
      for (const test of group.tests) {
        if (group.tagSize !== 256) { tally.filter('tagSize != 256'); continue; }
        tally.count(test.result);
        const key = hex(test.key);
        const msg = hex(test.msg);
        const tag = hex(test.tag);
        expect(verifyHmacSha256(key, tag, msg), `tcId ${test.tcId}`).toBe(test.result === 'valid');
        if (test.result === 'valid') expect(hmacSha256(key, msg).equals(tag)).toBe(true);
      }
    }
    console.log(tally.report());
    expect(tally.invalid).toBeGreaterThan(10);
  });

  it('PBKDF2-HMAC-SHA256', async () => {
    const tally = new VectorTally('pbkdf2_hmacsha256_test.json');
    for (const group of loadVectors('pbkdf2_hmacsha256_test.json').testGroups) {
      for (const test of group.tests) {
        tally.count(test.result);
        const dk = await pbkdf2Sha256(hex(test.password), hex(test.salt), test.iterationCount as number, test.dkLen as number);
        expect(dk.toString('hex'), `tcId ${test.tcId}`).toBe(test.dk);
      }
    }
    console.log(tally.report());
  });
});

describe('Wycheproof RSA-OAEP-SHA256', () => {
  for (const bits of [2048, 4096]) {
    it(`RSA-${bits}`, async () => {
      const file = `rsa_oaep_${bits}_sha256_mgf1sha256_test.json`;
      const tally = new VectorTally(file);
      for (const group of loadVectors(file).testGroups) {
        expect(group.sha).toBe('SHA-256');
        expect(group.mgfSha).toBe('SHA-256');
        const privateKeyDer = hex(group.privateKeyPkcs8);
        for (const test of group.tests) {
          tally.count(test.result);
          const ct = hex(test.ct);
          // Grants bind their context as the OAEP label; vectors with a label check that path.
          const oaepLabel = test.label === '' ? undefined : hex(test.label);
          const label = `tcId ${test.tcId} ${test.comment}`;
          if (test.result === 'valid') {
            const msg = hex(test.msg);
            expect((await rsaOaepDecrypt(privateKeyDer, ct, oaepLabel)).equals(msg), label).toBe(true);
            if (oaepLabel) {
              // The same ciphertext under the empty or another label: one opaque failure.
              await expect(rsaOaepDecrypt(privateKeyDer, ct), label).rejects.toThrow(DecryptionFailedError);
              await expect(rsaOaepDecrypt(privateKeyDer, ct, Buffer.concat([oaepLabel, Buffer.from([0])])), label).rejects.toThrow(DecryptionFailedError);
            }
            if (msg.length === 32) expect((await rsaUnwrapDek(privateKeyDer, ct, oaepLabel)).equals(msg)).toBe(true);
            else await expect(rsaUnwrapDek(privateKeyDer, ct, oaepLabel), label).rejects.toThrow(DecryptionFailedError);
          } else {
            await expect(rsaOaepDecrypt(privateKeyDer, ct, oaepLabel), label).rejects.toThrow(DecryptionFailedError);
            await expect(rsaUnwrapDek(privateKeyDer, ct, oaepLabel), label).rejects.toThrow(DecryptionFailedError);
          }
        }
      }
      console.log(tally.report());
      expect(tally.invalid).toBeGreaterThan(10);
    });
  }
});
