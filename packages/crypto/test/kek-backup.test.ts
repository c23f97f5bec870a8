import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exportKekBackup, importKekBackup, InvalidKeyError, KEK_BACKUP_ITERATIONS, WrongPasswordError } from '../src/index.ts';

const run = promisify(execFile);
const passphrase = 'correct horse battery staple ✓';

/** The passphrase goes through the environment, never the argument list. */
async function openssl(args: string[], input: string): Promise<string> {
  const child = run('openssl', [...args, '-pass', 'env:SFE_TEST_PASSPHRASE'], {
    env: { ...process.env, SFE_TEST_PASSPHRASE: passphrase },
  });
  child.child.stdin?.end(input);
  return (await child).stdout;
}

describe('KEK backup (OpenSSL compatible)', () => {
  it('is opened by openssl enc -d with the default iteration count', async () => {
    const kek = randomBytes(32);
    const backup = await exportKekBackup(kek, passphrase);
    expect(KEK_BACKUP_ITERATIONS).toBe(600_000);
    const plaintext = await openssl(
      ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-iter', String(KEK_BACKUP_ITERATIONS), '-md', 'sha256', '-a'],
      backup,
    );
    expect(plaintext).toBe(`${kek.toString('hex')}\n`);
  });

  it('opens a backup written by openssl enc', async () => {
    const kek = randomBytes(32);
    const backup = await openssl(
      ['enc', '-aes-256-cbc', '-pbkdf2', '-iter', '20000', '-md', 'sha256', '-a', '-salt'],
      `${kek.toString('hex')}\n`,
    );
    expect((await importKekBackup(backup, passphrase, { iterations: 20_000 })).equals(kek)).toBe(true);
  });

  it('reports a wrong passphrase or iteration count as WrongPasswordError', async () => {
    const kek = randomBytes(32);
    const backup = await exportKekBackup(kek, passphrase, { iterations: 20_000 });
    expect((await importKekBackup(backup, passphrase, { iterations: 20_000 })).equals(kek)).toBe(true);
    await expect(importKekBackup(backup, `${passphrase}x`, { iterations: 20_000 })).rejects.toThrow(WrongPasswordError);
    await expect(importKekBackup(backup, passphrase, { iterations: 20_001 })).rejects.toThrow(WrongPasswordError);
  });

  it('refuses malformed input, short passphrases and bad KEKs', async () => {
    await expect(importKekBackup('not base64 !!', passphrase)).rejects.toThrow(InvalidKeyError);
    await expect(importKekBackup(Buffer.from('Salted__12345678').toString('base64'), passphrase)).rejects.toThrow(InvalidKeyError);
    await expect(exportKekBackup(randomBytes(32), 'short')).rejects.toThrow(InvalidKeyError);
    await expect(exportKekBackup(randomBytes(16), passphrase)).rejects.toThrow(InvalidKeyError);
  });
});
