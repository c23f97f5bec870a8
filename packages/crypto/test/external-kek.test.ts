import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aeadOpen,
  aeadSeal,
  createExternalKekRing,
  createKekRing,
  DecryptionFailedError,
  generateDek,
  InvalidKeyError,
  kekId,
  unwrapDek,
  wrapDek,
  type ExternalKek,
} from '../src/index.ts';

const AD = Buffer.from('file:42');

/** A key held "elsewhere": the same AES-256-GCM an HSM computes, behind the ExternalKek calls. */
function heldElsewhere(kek: Buffer, keyId = kekId(kek)): ExternalKek & { calls: number } {
  const held = {
    keyId,
    calls: 0,
    seal: (nonce: Buffer, plaintext: Buffer, associatedData: Buffer) => {
      held.calls += 1;
      return aeadSeal('aes-256-gcm', kek, nonce, plaintext, associatedData);
    },
    open: (nonce: Buffer, sealed: Buffer, associatedData: Buffer) => {
      held.calls += 1;
      return aeadOpen('aes-256-gcm', kek, nonce, sealed, associatedData);
    },
  };
  return held;
}

describe('external KEK ring', () => {
  it('wraps in the same format as an in-process ring: either opens what the other wrapped', () => {
    const kek = randomBytes(32);
    const external = heldElsewhere(kek);
    const outside = createExternalKekRing(external);
    const inside = createKekRing(kek);
    expect(outside.activeKeyId).toBe(inside.activeKeyId);
    const dek = generateDek();
    const wrappedOutside = wrapDek(outside, dek, AD);
    expect(wrappedOutside.length).toBe(69);
    expect(unwrapDek(inside, wrappedOutside, AD).equals(dek)).toBe(true);
    expect(unwrapDek(outside, wrapDek(inside, dek, AD), AD).equals(dek)).toBe(true);
    expect(external.calls).toBe(2);
  });

  it('names the key id in the wrapped DEK, keeps previous keys for unwrapping, and fails closed on tampering', () => {
    const old = heldElsewhere(randomBytes(32), 'kek_00112233445566aa');
    const current = heldElsewhere(randomBytes(32), 'kek_ffeeddccbbaa9988');
    const before = createExternalKekRing(old);
    const after = createExternalKekRing(current, [old]);
    const dek = generateDek();
    const wrapped = wrapDek(before, dek, AD);
    expect(wrapped.subarray(1, 9).toString('hex')).toBe('00112233445566aa');
    expect(unwrapDek(after, wrapped, AD).equals(dek)).toBe(true);
    expect(wrapDek(after, dek, AD).subarray(1, 9).toString('hex')).toBe('ffeeddccbbaa9988');
    expect(() => unwrapDek(after, wrapped, Buffer.from('file:43'))).toThrow(DecryptionFailedError);
    const flipped = Buffer.from(wrapped);
    flipped[30] = (flipped[30] ?? 0) ^ 1;
    expect(() => unwrapDek(after, flipped, AD)).toThrow(DecryptionFailedError);
  });

  it('refuses malformed key ids, duplicates and a holder that returns the wrong length', () => {
    const kek = randomBytes(32);
    expect(() => createExternalKekRing(heldElsewhere(kek, 'kek_XYZ'))).toThrow(InvalidKeyError);
    expect(() => createExternalKekRing(heldElsewhere(kek), [heldElsewhere(kek)])).toThrow(InvalidKeyError);
    const short: ExternalKek = { keyId: 'kek_0000000000000001', seal: () => Buffer.alloc(40), open: () => Buffer.alloc(31) };
    const ring = createExternalKekRing(short);
    expect(() => wrapDek(ring, generateDek(), AD)).toThrow(InvalidKeyError);
    const wrapped = Buffer.concat([Buffer.from([1]), Buffer.from('0000000000000001', 'hex'), randomBytes(60)]);
    expect(() => unwrapDek(ring, wrapped, AD)).toThrow(DecryptionFailedError);
  });
});
