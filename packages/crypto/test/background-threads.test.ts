import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BackgroundThreads, backgroundThreads, type KdfJob } from '../src/background-threads.ts';
import { pbkdf2Sha256, scryptKey, scryptMaxmem } from '../src/kdf.ts';
import { generateRsaKeyPair, rsaUnwrapDek, rsaWrapDek } from '../src/rsa.ts';
import { closedAfterAll } from './helpers/closing.ts';

const run = promisify(execFile);
const cost = { N: 2 ** 12, r: 8, p: 1 };

const scryptJob = (password: Buffer, salt: Buffer): KdfJob => ({
  kind: 'scrypt',
  password,
  salt,
  length: 32,
  ...cost,
  maxmem: scryptMaxmem(cost),
});

/** The nice value Linux reports for one thread of this process (field 19 of its stat line). */
function niceOfThread(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const keep = closedAfterAll<BackgroundThreads>();
const pool = (options: ConstructorParameters<typeof BackgroundThreads>[0] = {}, url?: URL) => keep(new BackgroundThreads(options, url));

describe('background threads', () => {
  it('derive the same keys as node:crypto on the calling thread', async () => {
    const password = Buffer.from('correct horse battery staple');
    const salt = randomBytes(16);
    await expect(scryptKey(password, salt, cost, 32)).resolves.toEqual(scryptSync(password, salt, 32, { ...cost, maxmem: scryptMaxmem(cost) }));
    await expect(pbkdf2Sha256(password, salt, 1000, 48)).resolves.toEqual(pbkdf2Sync(password, salt, 1000, 48, 'sha256'));
    await expect(pbkdf2Sha256('pässword', salt, 10, 32)).resolves.toEqual(pbkdf2Sync(Buffer.from('pässword', 'utf8'), salt, 10, 32, 'sha256'));
    expect(backgroundThreads().threadCount).toBeGreaterThan(0);
  });

  it('generate RSA key pairs whose halves match (SPKI PEM, PKCS#8 DER)', async () => {
    const pair = await generateRsaKeyPair(2048);
    const privateKey = createPrivateKey({ key: pair.privateKeyDer, format: 'der', type: 'pkcs8' });
    expect(privateKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    expect(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })).toBe(pair.publicKeyPem);
    const dek = randomBytes(32);
    await expect(rsaUnwrapDek(pair.privateKeyDer, await rsaWrapDek(pair.publicKeyPem, dek))).resolves.toEqual(dek);
    // Two generations are two keys.
    expect((await generateRsaKeyPair(2048)).publicKeyPem).not.toBe(pair.publicKeyPem);
  });

  it('refuse a key size node:crypto refuses, and go on', async () => {
    const threads = pool({ maxThreads: 1 });
    await expect(threads.generateRsaKey(0)).rejects.toThrow(Error);
    await expect(threads.generateRsaKey(2048)).resolves.toMatchObject({ publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY') });
  });

  it('run below the priority of the rest of the process', async () => {
    const threads = pool({ maxThreads: 2, niceIncrement: 10 });
    await Promise.all([1, 2].map(() => threads.derive(scryptJob(Buffer.from('pw'), randomBytes(16)))));
    const expected = Math.min(19, getPriority() + 10);
    if (process.platform === 'linux') {
      expect(threads.threadIds).toHaveLength(2);
      for (const tid of threads.threadIds) expect(niceOfThread(tid)).toBe(expected);
      // The calling thread keeps its own.
      expect(getPriority()).toBeLessThan(expected);
    } else {
      expect(threads.threadIds).toEqual([]);
    }
  });

  it('queue jobs beyond maxThreads, and leave the caller’s password as it was', async () => {
    const threads = pool({ maxThreads: 2 });
    const passwords = Array.from({ length: 7 }, (_, i) => Buffer.from(`password ${i}`));
    const salt = randomBytes(16);
    const keys = await Promise.all(
      passwords.map((password) => {
        const key = threads.derive(scryptJob(password, salt));
        expect(threads.threadCount).toBeLessThanOrEqual(2);
        return key;
      }),
    );
    keys.forEach((key, i) => expect(key).toEqual(scryptSync(`password ${i}`, salt, 32, { ...cost, maxmem: scryptMaxmem(cost) })));
    passwords.forEach((password, i) => expect(password.toString()).toBe(`password ${i}`));
  });

  it('reject refused parameters with node:crypto’s error, never the inputs, and go on', async () => {
    const threads = pool({ maxThreads: 1 });
    const job = { ...scryptJob(Buffer.from('secret-password'), randomBytes(16)), N: 1000 };
    const error: unknown = await threads.derive(job).then(
      () => null,
      (caught: unknown) => caught,
    );
    if (!(error instanceof Error)) throw new Error('expected the job to fail');
    expect((error as Error & { code?: string }).code).toMatch(/^ERR_CRYPTO_/);
    expect(error.message).not.toContain('secret-password');
    await expect(threads.derive(scryptJob(Buffer.from('pw'), randomBytes(16)))).resolves.toHaveLength(32);
  });

  it('fail the job of a thread that dies, and start another for the next', async () => {
    const threads = pool({ maxThreads: 1 }, new URL('./fixtures/crashing-background-worker.js', import.meta.url));
    const jobs = [threads.derive(scryptJob(Buffer.from('a'), randomBytes(16))), threads.derive(scryptJob(Buffer.from('b'), randomBytes(16)))];
    for (const job of jobs) await expect(job).rejects.toThrow(/background thread failed: worker crashed/);
    expect(threads.threadCount).toBe(0);
  });

  it('end idle threads, and refuse jobs once closed', async () => {
    const threads = pool({ idleMs: 50 });
    await threads.derive(scryptJob(Buffer.from('pw'), randomBytes(16)));
    expect(threads.threadCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(threads.threadCount).toBe(0);
    await threads.close();
    await expect(threads.derive(scryptJob(Buffer.from('pw'), randomBytes(16)))).rejects.toThrow(/closed/);
  });

  it('never keep the process alive once the job is done', async () => {
    // Without close(), and with the 30 s idle default: a ref'd thread would hold the
    // process past the 20 s timeout, and execFile would reject.
    const script = `
      import { pbkdf2Sha256 } from ${JSON.stringify(new URL('../src/kdf.ts', import.meta.url).href)};
      const key = await pbkdf2Sha256('pw', Buffer.alloc(16), 1000, 32);
      console.log(key.toString('hex'));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe(pbkdf2Sync('pw', Buffer.alloc(16), 1000, 32, 'sha256').toString('hex'));
  });
});
