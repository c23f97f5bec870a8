import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createKekRing,
  DecryptionFailedError,
  generateDek,
  InvalidKeyError,
  kekId,
  parseKek,
  UnknownKeyIdError,
  unwrapDek,
  wrapDek,
  wrappedDekKeyId,
  WRAPPED_DEK_VERSION,
} from '../src/index.ts';

const AD = Buffer.from('file:42');

describe('parseKek', () => {
  it('accepts exactly 64 hex characters', () => {
    const hex = randomBytes(32).toString('hex');
    expect(parseKek(hex).toString('hex')).toBe(hex);
    expect(parseKek(hex.toUpperCase()).toString('hex')).toBe(hex);
  });

  it('refuses anything else with a message that says what is expected and never echoes the input', () => {
    const secretish = 'a'.repeat(62) + 'zz';
    for (const bad of ['', 'abc', 'a'.repeat(63), 'a'.repeat(65), secretish, ` ${'a'.repeat(64)}`, Buffer.alloc(32).toString('base64')]) {
      let error: unknown;
      try {
        parseKek(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidKeyError);
      expect((error as Error).message).toContain('expected 64 hexadecimal characters (32 bytes)');
      if (bad.length > 3) expect((error as Error).message).not.toContain(bad.trim());
    }
  });
});

describe('KEK ring and DEK wrapping', () => {
  const oldKek = randomBytes(32);
  const newKek = randomBytes(32);

  it('derives a stable, non-secret key id', () => {
    expect(kekId(oldKek)).toMatch(/^kek_[0-9a-f]{16}$/);
    expect(kekId(oldKek)).toBe(kekId(Buffer.from(oldKek)));
    expect(kekId(oldKek)).not.toBe(kekId(newKek));
    expect(kekId(Buffer.alloc(32))).toBe(kekId(Buffer.alloc(32)));
  });

  it('wraps with the active KEK and unwraps with any KEK in the ring', () => {
    const dek = generateDek();
    const before = createKekRing(oldKek);
    const wrappedOld = wrapDek(before, dek, AD);
    expect(wrappedOld[0]).toBe(WRAPPED_DEK_VERSION);
    expect(wrappedDekKeyId(wrappedOld)).toBe(kekId(oldKek));

    const rotated = createKekRing(newKek, [oldKek]);
    expect(rotated.activeKeyId).toBe(kekId(newKek));
    expect(rotated.keyIds()).toEqual([kekId(newKek), kekId(oldKek)]);
    expect(rotated.has(kekId(oldKek))).toBe(true);
    expect(unwrapDek(rotated, wrappedOld, AD).equals(dek)).toBe(true);
    const rewrapped = wrapDek(rotated, unwrapDek(rotated, wrappedOld, AD), AD);
    expect(wrappedDekKeyId(rewrapped)).toBe(kekId(newKek));
    expect(unwrapDek(createKekRing(newKek), rewrapped, AD).equals(dek)).toBe(true);
  });

  it('reports an unknown key id distinctly', () => {
    const wrapped = wrapDek(createKekRing(oldKek), generateDek(), AD);
    let error: unknown;
    try {
      unwrapDek(createKekRing(newKek), wrapped, AD);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownKeyIdError);
    expect((error as UnknownKeyIdError).keyId).toBe(kekId(oldKek));
  });

  it('fails on other associated data, any flipped bit or a wrong length', () => {
    const ring = createKekRing(oldKek);
    const wrapped = wrapDek(ring, generateDek(), AD);
    expect(() => unwrapDek(ring, wrapped, Buffer.from('file:43'))).toThrow(DecryptionFailedError);
    for (let bit = 0; bit < wrapped.length * 8; bit += 1) {
      const tampered = Buffer.from(wrapped);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      // A flip inside the key id names another (unknown) key; all else is opaque.
      const inKeyId = bit >= 8 && bit < 72;
      expect(() => unwrapDek(ring, tampered, AD)).toThrow(inKeyId ? UnknownKeyIdError : DecryptionFailedError);
    }
    expect(() => unwrapDek(ring, wrapped.subarray(0, wrapped.length - 4), AD)).toThrow(DecryptionFailedError);
    expect(() => unwrapDek(ring, Buffer.concat([wrapped, Buffer.alloc(1)]), AD)).toThrow(DecryptionFailedError);
  });

  it('refuses bad DEKs, duplicate KEKs and KEKs of the wrong size', () => {
    const ring = createKekRing(oldKek);
    expect(() => wrapDek(ring, Buffer.alloc(16), AD)).toThrow(InvalidKeyError);
    expect(() => createKekRing(oldKek, [Buffer.from(oldKek)])).toThrow(InvalidKeyError);
    expect(() => createKekRing(Buffer.alloc(31))).toThrow(InvalidKeyError);
    expect(() => wrapDek({ activeKeyId: 'x', has: () => true, keyIds: () => [] }, generateDek(), AD)).toThrow(InvalidKeyError);
  });

  it('does not expose key material on the ring object', () => {
    const ring = createKekRing(oldKek);
    expect(JSON.stringify(ring)).not.toContain(oldKek.toString('hex'));
    expect(Object.values(ring).some((value) => Buffer.isBuffer(value))).toBe(false);
  });
});
