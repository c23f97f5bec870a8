import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { makeDataDir } from '../helpers/app.ts';
import { callJson, loginHttp, repeated, send, signUpHttp, streamedMultipart, uploadFile, type HttpSession } from '../helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { blobFiles } from './blob-dir.ts';

/**
 * Fault injection: the real server (a child process, real work factors, embedded key
 * store) is killed with SIGKILL at a random point of an upload, an approval, a key
 * rotation or a password change, then restarted on the same DATA_DIR. After every
 * restart the invariants hold:
 *  - the blob directory holds exactly the blobs of live file rows (no row without its
 *    blob, no blob without a row, no `.partial` left: the start-up sweep removes them);
 *  - every approved grant is wrapped to the consultant's current key and opens with the
 *    consultant's current password (exactly one of old and new password works);
 *  - every DEK unwraps under the master key (`POST /admin/kek/verify` with deep checks);
 *  - the audit chain verifies (`GET /admin/audit/verify`).
 */

type Operation = 'upload' | 'approve' | 'rotate' | 'password';
interface KillPoint {
  operation: Operation;
  /** Milliseconds after the request went out. */
  afterMs: number;
}
const MAX_DELAY: Record<Operation, number> = { upload: 600, approve: 40, rotate: 2500, password: 2500 };
const RUNS = 5;

describe('faults: SIGKILL at random points of upload, approve, key rotation and password change', () => {
  const env = { MASTER_KEY: randomBytes(32).toString('hex'), JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
  let dataDir: string;
  let server: ServerProcess | undefined;
  let db: PrismaClient;
  let org: HttpSession;
  let con: HttpSession;
  let admin: HttpSession;
  const contents = new Map<string, string>();
  const outcomes: Array<KillPoint & { answered: string; passwordChanged?: boolean }> = [];

  const call = <T>(session: HttpSession, method: string, route: string, body?: unknown) =>
    callJson<T>(server!.url, method, route, { token: session.accessToken, ...(body === undefined ? {} : { body }) });
  const upload = async (size: number) => {
    const data = randomBytes(Math.min(size, 1024 * 1024));
    const multipart = streamedMultipart({ filename: 'kill.bin', size, source: () => repeated(data, size) });
    return { sha: createHash('sha256').update(Buffer.concat(Array.from(repeated(data, size)))).digest('hex'), result: uploadFile(server!.url, org.accessToken, multipart) };
  };
  const download = (requestId: string, password: string) =>
    send(`${server!.url}/api/v1/access-requests/${requestId}/download`, {
      headers: { authorization: `Bearer ${con.accessToken}`, 'content-type': 'application/json' },
      body: Readable.from([Buffer.from(JSON.stringify({ password }))]),
    });

  beforeAll(async () => {
    dataDir = await makeDataDir();
    server = await startServer({ dataDir, env });
    org = await signUpHttp(server.url, 'organization');
    con = await signUpHttp(server.url, 'consultant');
    const adminUser = await signUpHttp(server.url, 'consultant');
    db = createPrismaClient(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...env }).databaseUrl);
    await db.user.update({ where: { id: adminUser.id }, data: { role: 'admin' } });
    admin = await loginHttp(server.url, adminUser.username, adminUser.password);
    // One grant that every rotation and password change must carry along.
    const first = await upload(200_000);
    const file = (await first.result).json<{ id: string }>();
    contents.set(file.id, first.sha);
    const asked = await call<{ id: string }>(con, 'POST', `/api/v1/files/${file.id}/access-requests`, { reason: 'kept' });
    expect((await call(org, 'POST', `/api/v1/access-requests/${asked.body.id}/approve`, {})).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await db?.$disconnect();
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts the operation, kills the server `afterMs` later, and says how far the answer got. */
  async function killDuring(point: KillPoint): Promise<{ answered: string; newPassword?: string }> {
    let pending: Promise<unknown>;
    let newPassword: string | undefined;
    if (point.operation === 'upload') {
      const started = await upload(16 * 1024 * 1024);
      pending = started.result.then((r) => {
        if (r.status === 201) contents.set(r.json<{ id: string }>().id, started.sha);
        return r.status;
      });
    } else if (point.operation === 'approve') {
      const next = await upload(50_000);
      const file = (await next.result).json<{ id: string }>();
      contents.set(file.id, next.sha);
      const asked = await call<{ id: string }>(con, 'POST', `/api/v1/files/${file.id}/access-requests`, { reason: 'kill point' });
      pending = call(org, 'POST', `/api/v1/access-requests/${asked.body.id}/approve`, {}).then((r) => r.status);
    } else if (point.operation === 'rotate') {
      pending = call(con, 'POST', '/api/v1/users/me/keys/rotate', { password: con.password }).then((r) => r.status);
    } else {
      newPassword = `pw-${randomBytes(12).toString('base64url')}`;
      pending = call(con, 'POST', '/api/v1/users/me/password', { currentPassword: con.password, newPassword }).then((r) => r.status);
    }
    const answer = pending.then((status) => String(status), () => 'no answer');
    await Promise.race([sleep(point.afterMs), answer]);
    expect((await server!.kill()).signal).toBe('SIGKILL');
    return { answered: await answer, ...(newPassword ? { newPassword } : {}) };
  }

  async function expectInvariants(candidates: string[]) {
    // Blobs and rows match one to one; the sweep left no partial.
    const blobs = await blobFiles(dataDir);
    const live = await db.encryptedFile.findMany({ where: { deletedAt: null }, select: { id: true, blobKey: true, sha256: true } });
    expect(blobs.filter((name) => name.endsWith('.partial'))).toEqual([]);
    expect(blobs).toEqual(live.map((f) => f.blobKey).sort());
    // Exactly one password works, and it opens every approved grant.
    const working: string[] = [];
    for (const password of candidates) {
      const login = await callJson<{ accessToken: string }>(server!.url, 'POST', '/api/v1/auth/login', { body: { username: con.username, password } });
      if (login.status === 200) {
        working.push(password);
        con = { ...con, password, accessToken: login.body.accessToken };
      }
    }
    expect(working, 'passwords that sign in').toHaveLength(1);
    const user = await db.user.findUniqueOrThrow({ where: { id: con.id } });
    const grants = await db.accessRequest.findMany({ where: { consultantId: con.id, status: 'approved' }, include: { file: true } });
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) {
      expect(grant.wrappedSymmetricKey, grant.id).not.toBeNull();
      expect(grant.consultantKeyFingerprint, `grant ${grant.id} wrapped to the current key`).toBe(user.publicKeyFingerprint);
      const response = await download(grant.id, con.password);
      expect(response.status, `grant ${grant.id}: ${response.body.toString().slice(0, 200)}`).toBe(200);
      expect(createHash('sha256').update(response.body).digest('hex')).toBe(grant.file.sha256);
    }
    for (const file of live) if (contents.has(file.id)) expect(file.sha256).toBe(contents.get(file.id));
    const verify = await call<{ checked: number; ok: boolean; failed: unknown[] }>(admin, 'POST', '/api/v1/admin/kek/verify', { deep: true });
    expect(verify.body).toEqual({ checked: live.length, ok: true, failed: [] });
    const chain = await call<{ ok: boolean; checked: number }>(admin, 'GET', '/api/v1/admin/audit/verify');
    expect(chain.body.ok, JSON.stringify(chain.body)).toBe(true);
    return { files: live.length, grants: grants.length, auditRecords: chain.body.checked };
  }

  it(`keeps every invariant over ${RUNS} kill points`, { timeout: 400_000 }, async () => {
    const point: fc.Arbitrary<KillPoint> = fc
      .constantFrom<Operation>('upload', 'approve', 'rotate', 'password')
      .chain((operation) => fc.record({ operation: fc.constant(operation), afterMs: fc.noBias(fc.integer({ min: 0, max: MAX_DELAY[operation] })) }));
    let last = { files: 0, grants: 0, auditRecords: 0 };
    await fc.assert(
      fc.asyncProperty(point, async (kill) => {
        const { answered, newPassword } = await killDuring(kill);
        server = await startServer({ dataDir, env });
        last = await expectInvariants(newPassword ? [con.password, newPassword] : [con.password]);
        outcomes.push({ ...kill, answered, ...(newPassword ? { passwordChanged: con.password === newPassword } : {}) });
      }),
      {
        numRuns: RUNS,
        seed: 20261202,
        // Each run builds on the state the last one left, so a failure is reported as found.
        endOnFailure: true,
        examples: [[{ operation: 'upload', afterMs: 300 }], [{ operation: 'approve', afterMs: 5 }], [{ operation: 'rotate', afterMs: 700 }], [{ operation: 'password', afterMs: 900 }]],
      },
    );
    console.log(`kill points: ${outcomes.length} runs, ${JSON.stringify(outcomes)}; at the end ${last.files} files, ${last.grants} grants, ${last.auditRecords} audit records verified`);
  });
});
