import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { makeDataDir, uniqueName } from '../helpers/app.ts';
import { testDatabaseUrl } from '../helpers/database.ts';
import { PASSWORD, uploadBody } from '../helpers/fixtures.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

/**
 * Two API processes behind round-robin on one PostgreSQL database, one MongoDB-protocol
 * key store and one blob directory: everything that must hold across replicas is
 * driven through both and counted in the shared database, never per process.
 */
const K0 = randomBytes(32).toString('hex');
const K1 = randomBytes(32).toString('hex');
const FILES = 12;

interface Session {
  id: string;
  token: string;
}

describe('two replicas on one PostgreSQL, one key store, one blob directory', { timeout: 600_000 }, () => {
  let dataDir: string;
  let mongo: Jongodb;
  let prisma: PrismaClient;
  let replicas: ServerProcess[] = [];
  let turn = 0;
  const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), AUDIT_SIGNING_KEY: randomBytes(32).toString('hex') };

  /** The next replica, round-robin. */
  const next = () => replicas[turn++ % replicas.length]!;

  async function call(server: ServerProcess, method: string, path: string, options: { token?: string; json?: unknown; body?: Buffer; headers?: Record<string, string>; ip?: string } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    // TRUST_PROXY is on: each scenario is its own client address, as behind a load balancer.
    headers['x-forwarded-for'] = options.ip ?? '198.51.100.1';
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers,
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : options.body ? { body: options.body } : {}),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text };
    }
    return { status: response.status, body, text };
  }

  async function signUp(role: 'organization' | 'consultant', ip: string): Promise<Session> {
    const username = uniqueName(role.slice(0, 3));
    const registered = await call(next(), 'POST', '/auth/register', { json: { username, password: PASSWORD, role }, ip });
    expect(registered.status).toBe(201);
    const login = await call(next(), 'POST', '/auth/login', { json: { username, password: PASSWORD }, ip });
    expect(login.status).toBe(200);
    return { id: (login.body.user as { id: string }).id, token: login.body.accessToken as string };
  }

  async function start(env: Record<string, string>): Promise<void> {
    await Promise.all(replicas.map((r) => r.stop()));
    const common = {
      ...secrets,
      MONGODB_URI: withDatabase(mongo.uri, 'sfe_replicas'),
      TRUST_PROXY: 'true',
      ...env,
    };
    // One after the other: the second start finds the migrations applied by the first.
    const first = await startServer({ dataDir, env: common, readyTimeoutMs: 180_000 });
    const second = await startServer({ dataDir, env: common, readyTimeoutMs: 180_000 });
    replicas = [first, second];
  }

  beforeAll(async () => {
    dataDir = await makeDataDir();
    mongo = await startJongodb();
    const url = testDatabaseUrl(dataDir);
    if (!url) throw new Error('the api-pg project provides the server');
    await start({ MASTER_KEY: K0 });
    prisma = createPrismaClient(url);
  }, 600_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await prisma?.$disconnect();
    await mongo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  let org: Session;
  let con: Session;
  let admin: Session;
  let fileId: string;

  it('registers, uploads, requests, approves and downloads, each step on the other replica', async () => {
    org = await signUp('organization', '198.51.100.10');
    con = await signUp('consultant', '198.51.100.11');
    const adminUser = await signUp('consultant', '198.51.100.12');
    await prisma.user.update({ where: { id: adminUser.id }, data: { role: 'admin' } });
    const adminLogin = await prisma.user.findUniqueOrThrow({ where: { id: adminUser.id } });
    const relog = await call(next(), 'POST', '/auth/login', { json: { username: adminLogin.username, password: PASSWORD }, ip: '198.51.100.12' });
    admin = { id: adminUser.id, token: relog.body.accessToken as string };

    for (let i = 0; i < FILES; i++) {
      const body = uploadBody({ data: Buffer.from(`replicated file ${i}`), filename: `r${i}.txt`, contentType: 'text/plain' });
      const uploaded = await call(next(), 'POST', '/files', { token: org.token, body: body.payload, headers: body.headers });
      expect(uploaded.status).toBe(201);
      fileId ??= uploaded.body.id as string;
    }
    const requested = await call(next(), 'POST', `/files/${fileId}/access-requests`, { token: con.token, json: { reason: 'replica audit' } });
    expect(requested.status).toBe(201);
    const requestId = requested.body.id as string;
    // Exactly 2 downloads, raced 6 at once over both replicas.
    const approved = await call(next(), 'POST', `/access-requests/${requestId}/approve`, { token: org.token, json: { maxDownloads: 2 } });
    expect(approved.status).toBe(200);
    const raced = await Promise.all(
      Array.from({ length: 6 }, () => call(next(), 'POST', `/access-requests/${requestId}/download`, { token: con.token, json: { password: PASSWORD } })),
    );
    const ok = raced.filter((r) => r.status === 200);
    expect(ok).toHaveLength(2);
    for (const r of ok) expect(r.text).toBe('replicated file 0');
    expect(raced.filter((r) => r.status !== 200).every((r) => r.body.code === 'DOWNLOAD_LIMIT_REACHED')).toBe(true);
    expect((await prisma.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).downloadCount).toBe(2);
  });

  it('counts rate limits once across replicas', async () => {
    // 30 auth requests a minute per client address (auth routes), whichever replica answers.
    const ip = '203.0.113.50';
    const answers = [];
    for (let i = 0; i < 31; i++) answers.push((await call(next(), 'POST', '/auth/refresh', { json: { refreshToken: 'x'.repeat(43) }, ip })).status);
    expect(answers.slice(0, 30).every((status) => status === 401)).toBe(true);
    expect(answers[30]).toBe(429);
  });

  it('locks an account after 10 failures in all, not 10 per replica', async () => {
    const username = (await prisma.user.findUniqueOrThrow({ where: { id: con.id } })).username;
    for (let i = 0; i < 10; i++) {
      const failed = await call(next(), 'POST', '/auth/login', { json: { username, password: 'wrong password entirely' }, ip: `192.0.2.${i + 1}` });
      expect(failed.status).toBe(401);
    }
    // Right password, on either replica: locked.
    for (const server of replicas) {
      const locked = await call(server, 'POST', '/auth/login', { json: { username, password: PASSWORD }, ip: '192.0.2.99' });
      expect(locked.body.code).toBe('ACCOUNT_LOCKED');
    }
  });

  it('a disable on one replica ends the tokens on the other at the next request', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    expect((await call(b, 'GET', '/auth/me', { token: org.token })).status).toBe(200);
    const disabled = await call(a, 'POST', `/admin/users/${org.id}/disable`, { token: admin.token, json: {} });
    expect(disabled.status).toBe(200);
    expect((await call(b, 'GET', '/auth/me', { token: org.token })).status).toBe(401);
    expect((await call(a, 'GET', '/auth/me', { token: org.token })).status).toBe(401);
  });

  it('exactly one replica runs a KEK rotation started on both at once; every DEK is re-wrapped once', async () => {
    // Both restart with a new active key and the old one still readable; batches of one
    // keep the job running while the second claim arrives.
    await start({ MASTER_KEY: K1, MASTER_KEY_PREVIOUS: K0, KEK_ROTATION_BATCH_SIZE: '1' });
    const adminRow = await prisma.user.findUniqueOrThrow({ where: { id: admin.id } });
    const login = await call(next(), 'POST', '/auth/login', { json: { username: adminRow.username, password: PASSWORD }, ip: '198.51.100.77' });
    const token = login.body.accessToken as string;
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const claims = await Promise.all([call(a, 'POST', '/admin/kek/rotate', { token, json: {} }), call(b, 'POST', '/admin/kek/rotate', { token, json: {} })]);
    expect(claims.map((c) => c.status).sort()).toEqual([202, 409]);

    const jobId = claims.find((c) => c.status === 202)!.body.id as string;
    let job = await prisma.rotationJob.findUniqueOrThrow({ where: { id: jobId } });
    for (let i = 0; i < 600 && job.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await prisma.rotationJob.findUniqueOrThrow({ where: { id: jobId } });
    }
    expect(job).toMatchObject({ status: 'completed', rewrapped: FILES, failed: 0 });
    expect(await prisma.rotationJob.count()).toBe(1);
    const rewraps = await prisma.cryptoLog.findMany({ where: { operation: 'dek_rewrapped', success: true } });
    const rewrapped = rewraps.reduce((sum, r) => sum + Number((JSON.parse(r.details) as { rewrapped?: number }).rewrapped ?? 0), 0);
    expect(rewrapped).toBe(FILES);
    const status = await call(next(), 'GET', '/admin/kek', { token });
    const keys = status.body.keys as Array<{ active: boolean; wrappedDeks: number }>;
    expect(keys.find((k) => k.active)?.wrappedDeks).toBe(FILES);
    expect(keys.filter((k) => !k.active).every((k) => k.wrappedDeks === 0)).toBe(true);
  });

  it('runs a retention purge asked of both replicas at once exactly once; the chain verifies after', async () => {
    const adminRow = await prisma.user.findUniqueOrThrow({ where: { id: admin.id } });
    const login = await call(next(), 'POST', '/auth/login', { json: { username: adminRow.username, password: PASSWORD }, ip: '198.51.100.78' });
    const token = login.body.accessToken as string;
    // The oldest 25 records are made 8 years old: past the 7-year audit retention.
    const oldest = await prisma.cryptoLog.findMany({ orderBy: { seq: 'asc' }, take: 25, select: { seq: true } });
    const eightYearsAgo = new Date(Date.now() - 8 * 365 * 24 * 3600_000);
    await prisma.cryptoLog.updateMany({ where: { seq: { lte: oldest.at(-1)!.seq } }, data: { timestamp: eightYearsAgo } });
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const answers = await Promise.all([a, b, a, b].map((server) => call(server, 'POST', '/admin/audit/purge', { token, json: {} })));
    for (const answer of answers) expect([200, 409], answer.text).toContain(answer.status);
    const done = answers.filter((answer) => answer.status === 200).map((answer) => answer.body as { auditRecords: number });
    expect(done.length).toBeGreaterThan(0);
    // Whichever ran, the records were removed once: one purge counted them, any later one found none.
    expect(done.reduce((sum, result) => sum + result.auditRecords, 0)).toBe(25);
    expect(done.filter((result) => result.auditRecords > 0)).toHaveLength(1);
    expect(await prisma.cryptoLog.count({ where: { timestamp: eightYearsAgo } })).toBe(0);
    // Released by whichever ran it.
    expect(await prisma.lease.count({ where: { name: 'retention-purge', expiresAt: { gt: new Date() } } })).toBe(0);
    for (const server of replicas) {
      const verify = await call(server, 'GET', '/admin/audit/verify', { token });
      expect(verify.body.ok, verify.text).toBe(true);
    }
  });
});
