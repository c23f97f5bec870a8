import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { newUser, sha256, uploadFile } from '../helpers/fixtures.ts';
import { REPO_ROOT } from '../helpers/server-process.ts';

/**
 * Walks docs/operations.md: every `<!-- runbook: NAME -->` block is run as written, in
 * order, in one bash per runbook, with `sfe` being the repository's CLI. Then the test
 * checks that the runbook did what the page says.
 */
const page = readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8');

function runbook(name: string): string {
  const blocks = [...page.matchAll(/<!-- runbook: ([a-z-]+) -->\n```sh\n([\s\S]*?)```/g)].filter((m) => m[1] === name).map((m) => m[2]);
  expect(blocks.length, `runbook ${name} in docs/operations.md`).toBeGreaterThan(0);
  return blocks.join('\n');
}

function run(name: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [
    'set -euo pipefail',
    // The repository's own tsx loader: the runbook's directory has no node_modules.
    `sfe() { node --import "${pathToFileURL(path.join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href}" "${REPO_ROOT}/apps/api/src/cli/main.ts" "$@"; }`,
    runbook(name),
  ].join('\n');
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs/operations.md runbooks, run as written', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'sfe-runbooks-'));
  const dataDir = path.join(work, 'data');
  const firstKek = randomBytes(32).toString('hex');
  let kek = firstKek;
  let t: TestApp;
  const files: Array<{ id: string; sha256: string }> = [];
  const env = () => ({ DATA_DIR: dataDir, MASTER_KEY: kek, BACKUP_PASSPHRASE: 'runbook pass phrase', FILE_ID: files[0]?.id ?? '' });

  beforeAll(async () => {
    t = await buildTestApp({ dataDir, env: { MASTER_KEY: kek } });
    const org = await newUser(t.app, 'organization');
    for (const size of [0, 70_000, 5]) {
      const data = randomBytes(size);
      files.push({ id: (await uploadFile(t.app, org, { data, filename: `r${size}.bin` })).id, sha256: sha256(data) });
    }
    await t.close();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('rotate: a new key, everything re-wrapped, the old one retired, every file still opens', async () => {
    const result = await run('rotate', work, env());
    expect(result.code, result.stderr).toBe(0);
    kek = readFileSync(path.join(work, 'new-kek.txt'), 'utf8').split('\n')[0] ?? '';
    expect(kek).toMatch(/^[0-9a-f]{64}$/);
    expect(result.stdout).toContain(`${kekId(parseKek(firstKek))}  wraps 0 DEKs`);
    expect(result.stdout).toMatch(/checked 3: ok/);
    t = await buildTestApp({ dataDir, env: { MASTER_KEY: kek } });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('kek-backup: openssl and sfe both read the backup back to the active key', async () => {
    const result = await run('kek-backup', work, env());
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'kek-from-openssl.txt'), 'utf8')).toBe(`${kek}\n`);
    expect(readFileSync(path.join(work, 'kek-restored.txt'), 'utf8')).toBe(`${kek}\n${kekId(parseKek(kek))}\n`);
  });

  it('kek-split: five share files, three of them rebuild the key', async () => {
    const result = await run('kek-split', work, env());
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'kek-combined.txt'), 'utf8')).toBe(`${kek}\n${kekId(parseKek(kek))}\n`);
  });

  it('backup then restore: a fresh directory serves every file byte for byte', async () => {
    const backup = await run('backup', work, env());
    expect(backup.code, backup.stderr).toBe(0);
    const restore = await run('restore', work, env());
    expect(restore.code, restore.stderr).toBe(0);
    const restored = await buildTestApp({ dataDir: path.join(work, 'restored-data'), env: { MASTER_KEY: kek } });
    try {
      const users = await restored.app.inject({ method: 'GET', url: '/readyz' });
      expect(users.statusCode).toBe(200);
    } finally {
      await restored.close();
    }
    const verify = await run('decrypt', work, { ...env(), DATA_DIR: path.join(work, 'restored-data'), FILE_ID: files[1]?.id ?? '' });
    expect(verify.code, verify.stderr).toBe(0);
    expect(sha256(readFileSync(path.join(work, 'recovered.bin')))).toBe(files[1]?.sha256);
    rmSync(path.join(work, 'recovered.bin'));
  });

  it('decrypt: one file recovered without a server', async () => {
    const result = await run('decrypt', work, env());
    expect(result.code, result.stderr).toBe(0);
    expect(sha256(readFileSync(path.join(work, 'recovered.bin')))).toBe(files[0]?.sha256);
  });
});
