import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidKeyError,
  PBKDF2_DEFAULT_ITERATIONS,
  privateKeyNeedsUpgrade,
  protectPrivateKey,
  unprotectPrivateKey,
  WrongPasswordError,
} from '../src/index.ts';

const context = { userId: 'user-1', fingerprint: 'SHA256:abc' };
const der = randomBytes(1200);
const fast = { iterations: 10_000 };

describe('password-protected private keys', () => {
  it('uses 600,000 iterations by default and round-trips', async () => {
    const record = await protectPrivateKey(der, 'correct horse', context);
    expect(record.iterations).toBe(PBKDF2_DEFAULT_ITERATIONS);
    expect(record).toMatchObject({ cipher: 'aes-256-gcm', kdf: 'pbkdf2-sha256' });
    expect(record.salt.length).toBe(16);
    expect(record.nonce.length).toBe(12);
    expect((await unprotectPrivateKey(record, 'correct horse', context)).equals(der)).toBe(true);
    expect(privateKeyNeedsUpgrade(record)).toBe(false);
  });

  it('opens seed records with 100,000 iterations and says they need an upgrade', async () => {
    const record = await protectPrivateKey(der, 'pw', context, { iterations: 100_000 });
    expect((await unprotectPrivateKey(record, 'pw', context)).equals(der)).toBe(true);
    expect(privateKeyNeedsUpgrade(record)).toBe(true);
    expect(privateKeyNeedsUpgrade(record, { iterations: 100_000 })).toBe(false);
  });

  it('rejects a wrong password, another user or key, and tampering with WrongPasswordError', async () => {
    const record = await protectPrivateKey(der, 'pw', context, fast);
    await expect(unprotectPrivateKey(record, 'pW', context)).rejects.toThrow(WrongPasswordError);
    await expect(unprotectPrivateKey(record, 'pw', { ...context, userId: 'user-2' })).rejects.toThrow(WrongPasswordError);
    await expect(unprotectPrivateKey(record, 'pw', { ...context, fingerprint: 'SHA256:abd' })).rejects.toThrow(WrongPasswordError);
    // Length-prefixed context: moving bytes between the two fields changes the AD.
    await expect(unprotectPrivateKey(record, 'pw', { userId: 'user-1S', fingerprint: 'HA256:abc' })).rejects.toThrow(WrongPasswordError);
    const tampered = { ...record, encryptedPrivateKey: Buffer.from(record.encryptedPrivateKey) };
    tampered.encryptedPrivateKey[3]! ^= 1;
    await expect(unprotectPrivateKey(tampered, 'pw', context)).rejects.toThrow(WrongPasswordError);
    await expect(unprotectPrivateKey({ ...record, iterations: record.iterations + 1 }, 'pw', context)).rejects.toThrow(WrongPasswordError);
  });

  it('refuses out-of-policy parameters', async () => {
    await expect(protectPrivateKey(der, 'pw', context, { iterations: 1000 })).rejects.toThrow(InvalidKeyError);
    const record = await protectPrivateKey(der, 'pw', context, fast);
    await expect(unprotectPrivateKey({ ...record, iterations: 1e9 }, 'pw', context)).rejects.toThrow(InvalidKeyError);
    await expect(unprotectPrivateKey({ ...record, nonce: Buffer.alloc(8) }, 'pw', context)).rejects.toThrow(InvalidKeyError);
  });
});
