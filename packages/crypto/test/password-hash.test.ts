import { describe, expect, it } from 'vitest';
import { hashPassword, InvalidKeyError, passwordHashNeedsUpgrade, SCRYPT_DEFAULTS, unmatchablePasswordHash, verifyPassword } from '../src/index.ts';

const fast = { N: 2 ** 10, r: 8, p: 1 };

describe('login password hashing', () => {
  it('uses scrypt N=2^17, r=8, p=1 by default', async () => {
    expect(SCRYPT_DEFAULTS).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const encoded = await hashPassword('hunter2 hunter2');
    expect(encoded).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('hunter2 hunter2', encoded)).toBe(true);
    expect(await verifyPassword('hunter2 hunter3', encoded)).toBe(false);
    expect(passwordHashNeedsUpgrade(encoded)).toBe(false);
  });

  it('never truncates long passwords', async () => {
    const long = 'x'.repeat(200);
    const encoded = await hashPassword(long, fast);
    expect(await verifyPassword(long, encoded)).toBe(true);
    expect(await verifyPassword(`${'x'.repeat(199)}y`, encoded)).toBe(false);
    expect(await verifyPassword('x'.repeat(128), encoded)).toBe(false);
    const unicode = 'pässwörd-😀'.repeat(20);
    expect(await verifyPassword(unicode, await hashPassword(unicode, fast))).toBe(true);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', fast)).not.toBe(await hashPassword('same', fast));
  });

  it('makes unmatchable hashes that verify like real ones, with the same parameters', async () => {
    const params = { N: 2 ** 10, r: 8, p: 1 };
    const real = await hashPassword('some password', params);
    const dummy = unmatchablePasswordHash(params);
    // Same shape and parameters as a real hash, so a verify against it does the same work.
    expect(dummy).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(dummy.split('$').slice(0, 3)).toEqual(real.split('$').slice(0, 3));
    expect(passwordHashNeedsUpgrade(dummy, params)).toBe(false);
    for (const password of ['', 'some password', 'another']) await expect(verifyPassword(password, dummy)).resolves.toBe(false);
    expect(unmatchablePasswordHash(params)).not.toBe(dummy);
    expect(unmatchablePasswordHash()).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$/);
    expect(() => unmatchablePasswordHash({ N: 1000, r: 8, p: 1 })).toThrow(InvalidKeyError);
  });

  it('reports weaker parameters as needing an upgrade', async () => {
    const weak = await hashPassword('pw', fast);
    expect(passwordHashNeedsUpgrade(weak)).toBe(true);
    expect(passwordHashNeedsUpgrade(weak, fast)).toBe(false);
    expect(await verifyPassword('pw', weak)).toBe(true);
  });

  it('throws InvalidKeyError for malformed or out-of-bounds encodings', async () => {
    const good = await hashPassword('pw', fast);
    for (const bad of ['', 'plain', good.replace('$scrypt$', '$argon2$'), good.replace('ln=10', 'ln=30'), good.replace('r=8', 'r=99'), `${good}$`, good.slice(0, 30)]) {
      await expect(verifyPassword('pw', bad)).rejects.toThrow(InvalidKeyError);
    }
    expect(() => passwordHashNeedsUpgrade('nope')).toThrow(InvalidKeyError);
    await expect(hashPassword('pw', { N: 1000, r: 8, p: 1 })).rejects.toThrow(InvalidKeyError);
  });
});
