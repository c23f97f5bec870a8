import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { combineShares, describeShare, InvalidKeyError, InvalidShareError, splitSecret } from '../src/index.ts';

async function rejection(promise: Promise<unknown>): Promise<InvalidShareError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidShareError);
    return error as InvalidShareError;
  }
  throw new Error('expected a rejection');
}

describe('Shamir secret sharing of a KEK', () => {
  const kek = randomBytes(32);

  it('splits into printable shares and combines any threshold subset', async () => {
    const shares = await splitSecret(kek, 5, 3);
    expect(shares).toHaveLength(5);
    for (const share of shares) expect(share).toMatch(/^sfe-share-2-secret-\d+of3-[0-9a-f]+-[0-9a-f]{8}$/);
    for (const subset of [[0, 1, 2], [4, 2, 0], [1, 3, 4], [0, 1, 2, 3, 4]]) {
      const picked = subset.map((i) => shares[i] ?? '');
      expect((await combineShares(picked)).equals(kek)).toBe(true);
    }
    // Pasted with whitespace and upper case.
    const messy = shares.slice(0, 3).map((s) => ` ${s.toUpperCase().replace(/(.{20})/g, '$1 ')}\n`);
    expect((await combineShares(messy)).equals(kek)).toBe(true);
  });

  it('names the share that was mistyped', async () => {
    const shares = await splitSecret(kek, 3, 2);
    const share = shares[1] ?? '';
    const at = 20;
    const typo = share.slice(0, at) + (share[at] === 'a' ? 'b' : 'a') + share.slice(at + 1);
    const error = await rejection(combineShares([shares[0] ?? '', typo]));
    expect(error.message).toContain('share 2');
    expect(error.message).toContain('checksum');
    expect((await rejection(combineShares([shares[0] ?? '', 'garbage']))).message).toContain('share 2');
  });

  it('detects too few shares, duplicates and shares from another split', async () => {
    const shares = await splitSecret(kek, 5, 3);
    const other = await splitSecret(randomBytes(32), 5, 3);
    expect((await rejection(combineShares(shares.slice(0, 2)))).message).toContain('at least 3');
    await rejection(combineShares([shares[0] ?? '', shares[0] ?? '', shares[1] ?? '']));
    expect((await rejection(combineShares([shares[0] ?? '', shares[1] ?? '', other[2] ?? '']))).message).toContain('share 3');
    await rejection(combineShares([]));
  });

  it('validates split parameters', async () => {
    await expect(splitSecret(kek, 3, 1)).rejects.toThrow(InvalidKeyError);
    await expect(splitSecret(kek, 2, 3)).rejects.toThrow(InvalidKeyError);
    await expect(splitSecret(Buffer.alloc(0), 3, 2)).rejects.toThrow(InvalidKeyError);
  });
});

describe('shares name their secret, index and threshold', () => {
  const kek = randomBytes(32);

  it('carries the label, index and threshold in clear, covered by the checksum', async () => {
    const shares = await splitSecret(kek, 5, 3, 'kek_0123456789abcdef');
    shares.forEach((share, i) => {
      expect(share.startsWith(`sfe-share-2-kek_0123456789abcdef-${i + 1}of3-`)).toBe(true);
      expect(describeShare(share)).toEqual({ label: 'kek_0123456789abcdef', index: i + 1, threshold: 3 });
    });
    expect((await combineShares([shares[4] ?? '', shares[0] ?? '', shares[2] ?? ''])).equals(kek)).toBe(true);
  });

  it('refuses a share whose clear index, threshold or label was edited', async () => {
    const [share] = await splitSecret(kek, 3, 2, 'kek_0123456789abcdef');
    for (const edited of [
      share?.replace('-1of2-', '-2of2-'),
      share?.replace('-1of2-', '-1of3-'),
      share?.replace('kek_0123456789abcdef', 'kek_0123456789abcdee'),
    ]) {
      expect(() => describeShare(edited ?? '')).toThrow(/checksum/);
    }
  });

  it('refuses to combine shares of two different labels', async () => {
    const a = await splitSecret(kek, 3, 2, 'kek_aaaaaaaaaaaaaaaa');
    const b = await splitSecret(kek, 3, 2, 'kek_bbbbbbbbbbbbbbbb');
    await expect(combineShares([a[0] ?? '', b[1] ?? ''])).rejects.toThrow(/share 2/);
  });

  it('still reads version 1 shares', async () => {
    // A v1 share is the v2 payload with a checksum over the payload alone.
    const [v2] = await splitSecret(kek, 2, 2);
    const all = await splitSecret(kek, 2, 2);
    const toV1 = (share: string) => {
      const hex = share.split('-')[5] ?? '';
      const sum = createHash('sha256').update(Buffer.from(hex, 'hex')).digest().subarray(0, 4).toString('hex');
      return `sfe-share-1-${hex}-${sum}`;
    };
    expect(v2).toBeDefined();
    expect((await combineShares(all.map(toV1))).equals(kek)).toBe(true);
  });
});
