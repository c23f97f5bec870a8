import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { makeDataDir } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';

const KEK = randomBytes(32).toString('hex');
const KEY_ID = kekId(parseKek(KEK));
const PASSPHRASE = 'a long custody pass phrase';

describe('sfe kek generate | backup | restore | split | combine', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await makeDataDir();
    env = { DATA_DIR: dir, MASTER_KEY: KEK };
  });
  afterAll(() => execFileSync('rm', ['-rf', dir]));

  it('generate prints a fresh 64-hex KEK and its key id, different each time', async () => {
    const [a, b] = await Promise.all([sfe(['kek', 'generate'], env), sfe(['kek', 'generate', '--json'], env)]);
    expect(a.code).toBe(0);
    const [hex, keyId] = a.stdout.trim().split('\n');
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(keyId).toBe(kekId(parseKek(hex ?? '')));
    const json = JSON.parse(b.stdout);
    expect(json.kek).toMatch(/^[0-9a-f]{64}$/);
    expect(json.kek).not.toBe(hex);
    expect(json.keyId).toBe(kekId(parseKek(json.kek)));
  });

  it('backup is 0600 and opens with the real openssl binary, exactly as printed; restore reads it back', async () => {
    const out = path.join(dir, 'kek.backup');
    const backup = await sfe(['kek', 'backup', '--out', out, '--passphrase-stdin', '--iter', '20000'], env, `${PASSPHRASE}\n`);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toEqual({ file: out, keyId: KEY_ID, iterations: 20000 });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(backup.stderr).toContain(`openssl enc -d -aes-256-cbc -pbkdf2 -iter 20000 -in ${out}`);
    expect(backup.stdout + backup.stderr).not.toContain(KEK);
    expect(backup.stdout + backup.stderr).not.toContain(PASSPHRASE);
    const opened = execFileSync('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-iter', '20000', '-in', out, '-pass', 'stdin'], { input: `${PASSPHRASE}\n` });
    expect(opened.toString()).toBe(`${KEK}\n`);

    const restored = await sfe(['kek', 'restore', '--in', out, '--passphrase-stdin', '--iter', '20000', '--json'], env, `${PASSPHRASE}\n`);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({ kek: KEK, keyId: KEY_ID });

    const again = await sfe(['kek', 'backup', '--out', out, '--passphrase-stdin'], env, `${PASSPHRASE}\n`);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/never overwritten/);
    expect(readFileSync(out).subarray(0, 8).toString()).toBe('Salted__');
  });

  it('restore reads a file written by openssl itself, and refuses a wrong passphrase with exit 3', async () => {
    const byOpenssl = path.join(dir, 'by-openssl.b64');
    execFileSync('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-iter', '20000', '-md', 'sha256', '-a', '-out', byOpenssl, '-pass', 'stdin'], {
      input: `${PASSPHRASE}\n${KEK}\n`,
    });
    // openssl read the passphrase from the first line of stdin and encrypted the rest.
    const restored = await sfe(['kek', 'restore', '--in', byOpenssl, '--passphrase-stdin', '--iter', '20000'], env, `${PASSPHRASE}\n`);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toBe(`${KEK}\n${KEY_ID}\n`);
    const wrong = await sfe(['kek', 'restore', '--in', byOpenssl, '--passphrase-stdin', '--iter', '20000'], env, 'not the pass phrase\n');
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stdout).toBe('');
  });

  it('backup refuses a short passphrase (usage) and a missing --out', async () => {
    expect((await sfe(['kek', 'backup', '--out', path.join(dir, 'x'), '--passphrase-stdin'], env, 'short\n')).code).toBe(2);
    const missing = await sfe(['kek', 'backup', '--passphrase-stdin'], env, `${PASSPHRASE}\n`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out/);
  });

  it('split writes N 0600 share files naming index, threshold and key id; any K combine, fewer are refused', async () => {
    const outDir = path.join(dir, 'shares');
    const split = await sfe(['kek', 'split', '--shares', '5', '--threshold', '3', '--out-dir', outDir], env);
    expect(split.code, split.stderr).toBe(0);
    expect(JSON.parse(split.stdout)).toMatchObject({ keyId: KEY_ID, shares: 5, threshold: 3 });
    const files = readdirSync(outDir).sort();
    expect(files).toHaveLength(5);
    const shares = files.map((file, i) => {
      const full = path.join(outDir, file);
      expect(statSync(full).mode & 0o777).toBe(0o600);
      const text = readFileSync(full, 'utf8');
      expect(text).toContain(`share ${i + 1} of 5`);
      expect(text).not.toContain(KEK);
      const line = text.split('\n').find((l) => l.startsWith('sfe-share-'));
      expect(line).toMatch(new RegExp(`^sfe-share-2-${KEY_ID}-${i + 1}of3-[0-9a-f]+-[0-9a-f]{8}$`));
      return text;
    });
    // Whole files, comments included, in any order.
    const combined = await sfe(['kek', 'combine', '--json'], env, [shares[4], shares[0], shares[2]].join('\n'));
    expect(combined.code, combined.stderr).toBe(0);
    expect(JSON.parse(combined.stdout)).toEqual({ kek: KEK, keyId: KEY_ID });

    const tooFew = await sfe(['kek', 'combine'], env, [shares[1], shares[3]].join('\n'));
    expect(tooFew.code).toBe(3);
    expect(tooFew.stderr).toMatch(/at least 3 shares, got 2/);
    expect(tooFew.stdout).toBe('');
  });

  it('a mistyped share is named; bad split parameters are usage errors', async () => {
    const split = await sfe(['kek', 'split', '--shares', '3', '--threshold', '2'], env);
    expect(split.code).toBe(0);
    const [first, second] = split.stdout.trim().split('\n');
    const typo = `${second?.slice(0, 40)}${second?.[40] === 'a' ? 'b' : 'a'}${second?.slice(41)}`;
    const combined = await sfe(['kek', 'combine'], env, `${first}\n${typo}\n`);
    expect(combined.code).toBe(3);
    expect(combined.stderr).toMatch(/share 2 has a wrong checksum/);
    for (const args of [
      ['--shares', '2', '--threshold', '3'],
      ['--shares', '1', '--threshold', '1'],
      ['--shares', 'five', '--threshold', '3'],
      ['--shares', '3'],
    ]) {
      expect((await sfe(['kek', 'split', ...args], env)).code).toBe(2);
    }
  });

  it('shares written to a file combine through stdin redirection too (the runbook way)', async () => {
    const split = await sfe(['kek', 'split', '--shares', '2', '--threshold', '2'], env);
    const file = path.join(dir, 'two-shares.txt');
    writeFileSync(file, split.stdout);
    const combined = await sfe(['kek', 'combine'], env, readFileSync(file, 'utf8'));
    expect(combined.stdout).toBe(`${KEK}\n${KEY_ID}\n`);
  });
});

describe('the sfe command line itself', () => {
  const commands = [
    [],
    ['admin'],
    ['admin', 'create'],
    ['kek'],
    ['kek', 'generate'],
    ['kek', 'status'],
    ['kek', 'rotate'],
    ['kek', 'verify'],
    ['kek', 'backup'],
    ['kek', 'restore'],
    ['kek', 'split'],
    ['kek', 'combine'],
    ['backup'],
    ['restore'],
    ['decrypt'],
  ];

  it('--help works on every command (exit 0) and unknown commands or flags are usage errors (exit 2)', async () => {
    const env = { DATA_DIR: await makeDataDir() };
    const helps = await Promise.all(commands.map((command) => sfe([...command, '--help'], env)));
    helps.forEach((help, i) => {
      expect(help.code, commands[i]?.join(' ')).toBe(0);
      expect(help.stdout).toMatch(/^Usage: sfe/);
    });
    const unknownCommand = await sfe(['kek', 'explode'], env);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/unknown command/);
    const unknownFlag = await sfe(['kek', 'status', '--colour'], env);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/unknown option/);
    const missingValue = await sfe(['decrypt', '--file-id'], env);
    expect(missingValue.code).toBe(2);
  });

  it('a bad configuration is refused (exit 3) in one line', async () => {
    const result = await sfe(['kek', 'status'], { DATA_DIR: await makeDataDir(), MASTER_KEY: 'abc' });
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/MASTER_KEY must be exactly 64 hexadecimal characters/);
  });
});
