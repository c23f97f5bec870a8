import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError,
  generateDek,
  generateRsaKeyPair,
  InvalidKeyError,
  publicKeyFingerprint,
  rsaUnwrapDek,
  rsaWrapDek,
} from '../src/index.ts';

describe('RSA', () => {
  it('binds an OAEP label: the right label opens, a wrong or missing one fails opaquely', async () => {
    const pair = await generateRsaKeyPair();
    const dek = generateDek();
    const label = Buffer.from('sfe:grant:v2:grant-1:consultant-1:file-1:');
    const wrapped = await rsaWrapDek(pair.publicKeyPem, dek, label);
    expect((await rsaUnwrapDek(pair.privateKeyDer, wrapped, label)).equals(dek)).toBe(true);
    await expect(rsaUnwrapDek(pair.privateKeyDer, wrapped)).rejects.toThrow(DecryptionFailedError);
    await expect(rsaUnwrapDek(pair.privateKeyDer, wrapped, Buffer.from('sfe:grant:v2:grant-2:consultant-1:file-1:'))).rejects.toThrow(
      DecryptionFailedError,
    );
    const unlabelled = await rsaWrapDek(pair.publicKeyPem, dek);
    await expect(rsaUnwrapDek(pair.privateKeyDer, unlabelled, label)).rejects.toThrow(DecryptionFailedError);
    expect((await rsaUnwrapDek(pair.privateKeyDer, unlabelled, new Uint8Array(0))).equals(dek)).toBe(true);
  });

  it('generates a 2048-bit key pair and wraps/unwraps a DEK with RSA-OAEP-SHA256', async () => {
    const pair = await generateRsaKeyPair();
    expect(pair.algorithm).toBe('RSA-2048');
    expect(createPublicKey(pair.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const dek = generateDek();
    const wrapped = await rsaWrapDek(pair.publicKeyPem, dek);
    expect(wrapped.length).toBe(256);
    expect((await rsaUnwrapDek(pair.privateKeyDer, wrapped)).equals(dek)).toBe(true);
    const tampered = Buffer.from(wrapped);
    tampered[10]! ^= 1;
    await expect(rsaUnwrapDek(pair.privateKeyDer, tampered)).rejects.toThrow(DecryptionFailedError);
    const other = await generateRsaKeyPair(2048);
    await expect(rsaUnwrapDek(other.privateKeyDer, wrapped)).rejects.toThrow(DecryptionFailedError);
    await expect(rsaUnwrapDek(Buffer.from('not a key'), wrapped)).rejects.toThrow(DecryptionFailedError);
  });

  it('generates a 4096-bit key pair', async () => {
    const pair = await generateRsaKeyPair(4096);
    expect(pair.algorithm).toBe('RSA-4096');
    const dek = generateDek();
    const wrapped = await rsaWrapDek(pair.publicKeyPem, dek);
    expect(wrapped.length).toBe(512);
    expect((await rsaUnwrapDek(pair.privateKeyDer, wrapped)).equals(dek)).toBe(true);
  });

  it('fingerprints the DER SubjectPublicKeyInfo exactly as openssl does', async () => {
    const pair = await generateRsaKeyPair();
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pair.publicKeyPem });
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0];
    expect(pair.fingerprint).toBe(`SHA256:${expected}`);
    expect(publicKeyFingerprint(pair.publicKeyPem)).toBe(pair.fingerprint);
  });

  it('refuses bad public keys, key sizes and DEK sizes', async () => {
    await expect(rsaWrapDek('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', generateDek())).rejects.toThrow(InvalidKeyError);
    const pair = await generateRsaKeyPair();
    await expect(rsaWrapDek(pair.publicKeyPem, Buffer.alloc(16))).rejects.toThrow(InvalidKeyError);
    await expect(generateRsaKeyPair(1024 as 2048)).rejects.toThrow(InvalidKeyError);
  });
});
