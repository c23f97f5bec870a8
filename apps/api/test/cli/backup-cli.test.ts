import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { buildTestApp, login, makeDataDir, type TestApp } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { approve, downloadRaw, newUser, requestAccess, sha256, uploadFile } from '../helpers/fixtures.ts';

const MASTER_KEY = randomBytes(32).toString('hex');
const PASSPHRASE = 'backup pass phrase for the cli';

describe('sfe backup and sfe restore', () => {
  let t: TestApp;
  let work: string;
  let archive: string;
  const stored: Array<{ id: string; sha256: string }> = [];
  let grant: { requestId: string; username: string; password: string };
  let env: Record<string, string>;

  beforeAll(async () => {
    work = await makeDataDir();
    t = await buildTestApp({ env: { MASTER_KEY } });
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    for (const size of [0, 1, 65_536, 65_537]) {
      const data = randomBytes(size);
      stored.push({ id: (await uploadFile(t.app, org, { data })).id, sha256: sha256(data) });
    }
    const request = await requestAccess(t.app, con, stored[3]!.id);
    await approve(t.app, org, request.id);
    grant = { requestId: request.id, username: con.username, password: con.password };
    await t.close();
    env = { DATA_DIR: t.dataDir, MASTER_KEY };
    archive = path.join(work, 'all.sfebak');
  });
  afterAll(async () => {
    await t.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('backup writes one 0600 archive and prints the contract fields', async () => {
    const result = await sfe(['backup', '--out', archive, '--passphrase-stdin', '--json'], env, `${PASSPHRASE}\n`);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ file: archive, files: 4, users: 2, keyIds: [kekId(parseKek(MASTER_KEY))] });
    expect(json.bytes).toBe(statSync(archive).size);
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(PASSPHRASE);
    const again = await sfe(['backup', '--out', archive, '--passphrase-stdin'], env, `${PASSPHRASE}\n`);
    expect(again.code).toBe(3);
  });

  it('refusals exit 3, name what is missing and write nothing into the target', async () => {
    const target = path.join(work, 'refused');
    const wrong = await sfe(['restore', '--in', archive, '--data-dir', target, '--passphrase-stdin'], env, 'not the right pass phrase\n');
    expect(wrong.code).toBe(3);
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);

    const otherKey = randomBytes(32).toString('hex');
    const missing = await sfe(['restore', '--in', archive, '--data-dir', target, '--passphrase-stdin'], { ...env, MASTER_KEY: otherKey }, `${PASSPHRASE}\n`);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(kekId(parseKek(MASTER_KEY)));
    expect(missing.stderr).not.toContain(MASTER_KEY);
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);

    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, 'keep.txt'), 'mine');
    const notEmpty = await sfe(['restore', '--in', archive, '--data-dir', target, '--passphrase-stdin'], env, `${PASSPHRASE}\n`);
    expect(notEmpty.code).toBe(3);
    expect(readdirSync(target)).toEqual(['keep.txt']);
  });

  it('restore then verify: the restored directory serves every file and the grant', async () => {
    const target = path.join(work, 'restored');
    const result = await sfe(['restore', '--in', archive, '--data-dir', target, '--passphrase-stdin', '--json'], env, `${PASSPHRASE}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ dataDir: target, files: 4, users: 2, verify: { checked: 4, ok: true, failed: [] } });
    const restored = await buildTestApp({ dataDir: target, env: { MASTER_KEY } });
    try {
      const con = await login(restored.app, grant.username, grant.password);
      const download = await downloadRaw(restored.app, con, grant.requestId, grant.password);
      expect(download.statusCode).toBe(200);
      expect(sha256(download.rawPayload)).toBe(stored[3]!.sha256);
    } finally {
      await restored.cleanup();
    }
  });
});
