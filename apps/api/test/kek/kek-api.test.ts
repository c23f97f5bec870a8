import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { buildApp } from '../../src/app.ts';
import { createPrismaClient } from '../../src/db/client.ts';
import { loadConfig } from '../../src/config.ts';
import { PreflightError } from '../../src/lib/errors.ts';
import { buildTestApp, login, makeDataDir, TEST_KDF, type Session, type TestApp } from '../helpers/app.ts';
import { databaseEnv } from '../helpers/database.ts';
import { sfe } from '../helpers/cli.ts';
import { approve, newUser, requestAccess, sha256, uploadFile, uploadRaw } from '../helpers/fixtures.ts';
import { startServer } from '../helpers/server-process.ts';

const K0 = randomBytes(32).toString('hex');
const K1 = randomBytes(32).toString('hex');
const id = (hex: string) => kekId(parseKek(hex));
const ADMIN_PASSWORD = 'operator pass phrase';

interface Stored {
  id: string;
  sha256: string;
}

describe('master key: preflight, status and rotation over the API', () => {
  let dataDir: string;
  let t: TestApp;
  let org: Session;
  let con: Session;
  let admin: Session;
  const files: Stored[] = [];
  let pendingRequestId: string;

  const start = (env: Record<string, string>) => buildTestApp({ dataDir, env: { KEK_ROTATION_BATCH_SIZE: '3', ...env } });

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const created = await sfe(['admin', 'create', '--username', 'kek.admin', '--password-stdin'], { DATA_DIR: dataDir, MASTER_KEY: K0 }, `${ADMIN_PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    t = await start({ MASTER_KEY: K0 });
    org = await newUser(t.app, 'organization');
    con = await newUser(t.app, 'consultant');
    for (const size of [0, 1, 65_536, 65_537, 200_000, 10, 20, 30]) {
      const data = randomBytes(size);
      const file = await uploadFile(t.app, org, { data, filename: `f${size}.bin` });
      files.push({ id: file.id, sha256: sha256(data) });
    }
    pendingRequestId = (await requestAccess(t.app, con, files[1]!.id)).id;
    await t.close();
  });
  afterAll(async () => t.cleanup());

  const ownerDownload = (app: TestApp, fileId: string, session: Session) =>
    app.app.inject({ method: 'GET', url: `/api/v1/files/${fileId}/content`, headers: session.headers });

  it('a development start without the key that wraps the data: /readyz names kek, operations answer KEK_UNAVAILABLE', async () => {
    t = await start({ MASTER_KEY: K1 });
    try {
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { kek: 'down', database: 'ok', keyStore: 'ok' } });
      const owner = await login(t.app, org.username, org.password);
      const download = await ownerDownload(t, files[0]!.id, owner);
      expect(download.statusCode).toBe(503);
      expect(download.json()).toMatchObject({ code: 'KEK_UNAVAILABLE' });
      expect(download.body).not.toMatch(/kek_[0-9a-f]{16}|[0-9a-f]{64}/);
      // No mixed directory: nothing new goes under the wrong key.
      const upload = await uploadRaw(t.app, owner, { data: Buffer.from('new') });
      expect(upload.statusCode).toBe(503);
      expect(upload.json()).toMatchObject({ code: 'KEK_UNAVAILABLE' });
      const approved = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${pendingRequestId}/approve`, headers: owner.headers, payload: {} });
      expect(approved.statusCode).toBe(503);
      const adminSession = await login(t.app, 'kek.admin', ADMIN_PASSWORD);
      const status = await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: adminSession.headers });
      expect(status.json().keys).toContainEqual({ keyId: id(K0), wrappedDeks: files.length, active: false, configured: false });
      const rotate = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/rotate', headers: adminSession.headers });
      expect(rotate.statusCode).toBe(503);
      expect(rotate.json()).toMatchObject({ code: 'KEK_UNAVAILABLE' });
    } finally {
      await t.close();
    }
  });

  it('production refuses to build the app, naming the missing key id and its count', async () => {
    const config = {
      ...loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...databaseEnv(dataDir), MASTER_KEY: K1, JWT_SECRET: randomBytes(32).toString('hex'), AUDIT_SIGNING_KEY: randomBytes(32).toString('hex') }),
      kdf: TEST_KDF,
    };
    const error = await buildApp(config).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as Error).message).toContain(`${id(K0)} (${files.length} wrapped DEKs)`);
    expect((error as Error).message).not.toContain(K0);
    expect((error as Error).message).not.toContain(K1);
  });

  it('the production server exits 78 with one line, no stack trace', async () => {
    const server = await startServer({
      dataDir,
      env: { NODE_ENV: 'production', MASTER_KEY: K1, JWT_SECRET: randomBytes(32).toString('hex'), AUDIT_SIGNING_KEY: randomBytes(32).toString('hex') },
      readyTimeoutMs: 30_000,
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(server).toBeInstanceOf(Error);
    expect(String((server as Error).message)).toContain('code 78');
    expect(String((server as Error).message)).toMatch(/start-up refused: .*kek_[0-9a-f]{16} \(8 wrapped DEKs\)/);
    expect(String((server as Error).message)).not.toMatch(/\n\s+at /);
  });

  it('with both keys it serves; the admin rotates over the API and the old key ends at 0', async () => {
    t = await start({ MASTER_KEY: K1, MASTER_KEY_PREVIOUS: K0 });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json().checks.kek).toBe('ok');
      admin = await login(t.app, 'kek.admin', ADMIN_PASSWORD);
      const owner = await login(t.app, org.username, org.password);
      const before = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: admin.headers })).json();
      expect(before.activeKeyId).toBe(id(K1));
      expect(before.keys).toEqual([
        { keyId: id(K1), wrappedDeks: 0, active: true, configured: true },
        { keyId: id(K0), wrappedDeks: files.length, active: false, configured: true },
      ]);

      const [first, second] = await Promise.all([
        t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/rotate', headers: admin.headers }),
        t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/rotate', headers: admin.headers }),
      ]);
      const codes = [first.statusCode, second.statusCode].sort();
      expect(codes).toEqual([202, 409]);
      const started = (first.statusCode === 202 ? first : second).json();
      expect(started).toMatchObject({ status: 'running', total: files.length, toKeyId: id(K1) });

      let rotation = started;
      for (let i = 0; i < 200 && rotation.status === 'running'; i++) {
        // Downloads keep working while the job runs.
        expect((await ownerDownload(t, files[2]!.id, owner)).statusCode).toBe(200);
        await sleep(25);
        rotation = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/kek/rotations/${started.id}`, headers: admin.headers })).json();
      }
      expect(rotation).toMatchObject({ status: 'completed', total: files.length, done: files.length, rewrapped: files.length, failed: 0 });
      const after = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: admin.headers })).json();
      expect(after.keys).toEqual([
        { keyId: id(K1), wrappedDeks: files.length, active: true, configured: true },
        { keyId: id(K0), wrappedDeks: 0, active: false, configured: true },
      ]);
      expect(after.rotation).toMatchObject({ id: started.id, status: 'completed' });
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/kek/rotations/${randomBytes(8).toString('hex')}`, headers: admin.headers })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('after the rotation the old key can be dropped: every file opens with the new key alone, and the audit tells the story', async () => {
    t = await start({ MASTER_KEY: K1 });
    const owner = await login(t.app, org.username, org.password);
    for (const file of files) {
      const response = await ownerDownload(t, file.id, owner);
      expect(response.statusCode).toBe(200);
      expect(sha256(response.rawPayload)).toBe(file.sha256);
    }
    const granted = await approve(t.app, owner, pendingRequestId);
    expect(granted.status).toBe('approved');
    const adminSession = await login(t.app, 'kek.admin', ADMIN_PASSWORD);
    const overHttp = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/verify', headers: adminSession.headers, payload: { deep: true } });
    expect(overHttp.json()).toEqual({ checked: files.length, ok: true, failed: [] });
    const verify = await sfe(['kek', 'verify', '--deep', '--json'], { DATA_DIR: dataDir, MASTER_KEY: K1 });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({ checked: files.length, ok: true, failed: [] });
    await t.close();
    const status = await sfe(['kek', 'status', '--json'], { DATA_DIR: dataDir, MASTER_KEY: K1 });
    expect(JSON.parse(status.stdout).keys).toEqual([{ keyId: id(K1), wrappedDeks: files.length, active: true, configured: true }]);

    const prisma = createPrismaClient(t.config.databaseUrl);
    try {
      const adminId = (await prisma.user.findUniqueOrThrow({ where: { username: 'kek.admin' } })).id;
      const batches = await prisma.cryptoLog.findMany({ where: { operation: 'dek_rewrapped' }, orderBy: { seq: 'asc' } });
      // One summary record per batch of 3, not one per file.
      expect(batches.map((b) => JSON.parse(b.details).rewrapped)).toEqual([3, 3, 2]);
      expect(batches.every((b) => b.userId === adminId && b.success)).toBe(true);
      // The refused attempts (key missing, already running) are on record too.
      const refused = await prisma.cryptoLog.findMany({ where: { operation: 'kek_rotated', success: false } });
      expect(refused.map((r) => JSON.parse(r.details).refused).sort()).toEqual(['CONFLICT', 'KEK_UNAVAILABLE']);
      expect(refused.every((r) => r.userId === adminId)).toBe(true);
      const [rotated, ...more] = await prisma.cryptoLog.findMany({ where: { operation: 'kek_rotated', success: true } });
      expect(more).toHaveLength(0);
      expect(rotated).toMatchObject({ userId: adminId, success: true });
      expect(JSON.parse(rotated!.details)).toMatchObject({
        before: JSON.stringify({ [id(K0)]: files.length }),
        after: JSON.stringify({ [id(K1)]: files.length }),
        rewrapped: files.length,
        failed: 0,
        verifyOk: true,
        verifyChecked: files.length,
      });
      for (const record of [...batches, rotated!]) expect(record.details).not.toMatch(/[0-9a-f]{64}/);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('anonymous callers get 401 and every other role 403 on every master-key route', async () => {
    t = await start({ MASTER_KEY: K1 });
    try {
      const routes = [
        { method: 'GET' as const, url: '/api/v1/admin/kek' },
        { method: 'POST' as const, url: '/api/v1/admin/kek/rotate' },
        { method: 'POST' as const, url: '/api/v1/admin/kek/verify' },
        { method: 'GET' as const, url: `/api/v1/admin/kek/rotations/${randomBytes(8).toString('hex')}` },
      ];
      const o = await login(t.app, org.username, org.password);
      const c = await login(t.app, con.username, con.password);
      for (const route of routes) {
        expect((await t.app.inject(route)).statusCode).toBe(401);
        for (const session of [o, c]) expect((await t.app.inject({ ...route, headers: session.headers })).statusCode).toBe(403);
      }
      const spec = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      for (const path of ['/api/v1/admin/kek', '/api/v1/admin/kek/rotate', '/api/v1/admin/kek/verify', '/api/v1/admin/kek/rotations/{id}']) {
        expect(spec.paths[path]).toBeDefined();
      }
    } finally {
      await t.close();
    }
  });
});
