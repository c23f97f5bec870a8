import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { openDb } from '../helpers/admin.ts';
import { buildTestApp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import { PASSWORD, downloadRaw, expectProblem, freshIp, grantedPair, loginRaw, newUser, requestAccess } from '../helpers/fixtures.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';
import { startPausableProxy, type PausableProxy } from './pausable-proxy.ts';

/**
 * P24, the slow case: the MongoDB key store stops answering without closing anything
 * (a real TCP proxy in front of a real server holds every byte). Register, download,
 * key rotation and password change answer 503 KEY_STORE_UNAVAILABLE as problem+json;
 * approval (no private key needed) still works and writes a whole grant. When the
 * bytes flow again, the writes that were held back arrive late; nothing may be left
 * half-written by them, and everything works again without a restart.
 */
describe('faults: the MongoDB key store is slow (stalled, not down)', () => {
  let mongo: Jongodb;
  let proxy: PausableProxy;
  let t: TestApp;
  let db: PrismaClient;
  let org: Session;
  let con: Session;
  let grant: AccessRequest;
  let pendingId: string;
  let fingerprint: string;
  const ghost = uniqueName('slow');

  beforeAll(async () => {
    mongo = await startJongodb();
    const upstream = new URL(mongo.uri);
    proxy = await startPausableProxy({ host: upstream.hostname, port: Number(upstream.port) });
    const uri = withDatabase(`mongodb://127.0.0.1:${proxy.port}/`, `sfe_${randomBytes(4).toString('hex')}`);
    t = await buildTestApp({ env: { MONGODB_URI: uri, KEY_STORE_TIMEOUT_MS: '300' } });
    db = openDb(t);
    ({ org, con, request: grant } = await grantedPair(t.app, { approveBody: { maxDownloads: 10 } }));
    const file2 = (await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: org.headers })).json<{ items: Array<{ id: string }> }>().items[0]!;
    const other = await newUser(t.app, 'consultant');
    pendingId = (await requestAccess(t.app, other, file2.id)).id;
    fingerprint = (await db.user.findUniqueOrThrow({ where: { id: con.id } })).publicKeyFingerprint!;
    expect((await downloadRaw(t.app, con, grant.id, con.password)).statusCode).toBe(200);
    proxy.pause();
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
    await proxy.close();
    await mongo.stop();
  });

  it('answers 503 problem+json where a private key is needed, and approves without one', async () => {
    const register = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', remoteAddress: freshIp(), payload: { username: ghost, password: PASSWORD, role: 'consultant' } });
    expectProblem(register, 503, 'KEY_STORE_UNAVAILABLE');
    expect(register.headers['retry-after']).toBe('5');
    expectProblem(await downloadRaw(t.app, con, grant.id, con.password), 503, 'KEY_STORE_UNAVAILABLE');
    const rotate = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password } });
    expectProblem(rotate, 503, 'KEY_STORE_UNAVAILABLE');
    const password = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: con.headers,
      payload: { currentPassword: con.password, newPassword: 'a password that never took' },
    });
    expectProblem(password, 503, 'KEY_STORE_UNAVAILABLE');
    const approve = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${pendingId}/approve`, headers: org.headers, payload: {} });
    expect(approve.statusCode, approve.body).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ checks: { keyStore: 'down' } });
  });

  it('left nothing half-written while stalled', async () => {
    expect(await db.user.count({ where: { usernameKey: ghost.toLowerCase() } })).toBe(0);
    const approved = await db.accessRequest.findUniqueOrThrow({ where: { id: pendingId } });
    expect(approved.status).toBe('approved');
    expect(approved.wrappedSymmetricKey).not.toBeNull();
    const row = await db.user.findUniqueOrThrow({ where: { id: con.id } });
    expect(row.publicKeyFingerprint).toBe(fingerprint);
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: grant.id } })).downloadCount).toBe(1);
  });

  it('recovers once the bytes flow again; the late writes leave the account whole', async () => {
    proxy.resume();
    await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 30_000, interval: 250 }).toBe(200);
    // Give writes held back in the proxy time to land, then check what they did.
    await sleep(1000);
    // The password that answered 503 did not take: the old one still signs in and unlocks the key.
    expect((await loginRaw(t.app, con.username, con.password)).statusCode).toBe(200);
    const download = await downloadRaw(t.app, con, grant.id, con.password);
    expect(download.statusCode, download.body.slice(0, 200)).toBe(200);
    // The rotation that answered 503 did not take either: same key pair, grants still open.
    const keys = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: con.headers });
    expect(keys.json<{ fingerprint: string }>().fingerprint).toBe(fingerprint);
    // And the same calls work now.
    const register = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', remoteAddress: freshIp(), payload: { username: ghost, password: PASSWORD, role: 'consultant' } });
    expect(register.statusCode, register.body).toBe(201);
    const rotate = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password } });
    expect(rotate.statusCode, rotate.body).toBe(200);
    expect((await downloadRaw(t.app, con, grant.id, con.password)).statusCode).toBe(200);
  });
});
