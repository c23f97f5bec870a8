import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, makeDataDir, multipartBody, signUp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';

// The MongoDB key store goes away while the API runs. What needs a private key
// must answer 503 KEY_STORE_UNAVAILABLE and change nothing; what does not need
// one keeps working; readiness says which dependency is down.

const PASSWORD = 'correct horse battery staple';

async function upload(app: FastifyInstance, org: Session, name: string): Promise<string> {
  const body = multipartBody([{ name: 'file', filename: name, data: randomBytes(100_000) }]);
  const response = await app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload });
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string }>().id;
}

async function requestAccess(app: FastifyInstance, consultant: Session, fileId: string): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/files/${fileId}/access-requests`,
    headers: consultant.headers,
    payload: { reason: 'review' },
  });
  if (response.statusCode !== 201) throw new Error(`request failed: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string }>().id;
}

const download = (app: FastifyInstance, consultant: Session, requestId: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/access-requests/${requestId}/download`,
    headers: consultant.headers,
    payload: { password: consultant.password },
  });

async function downloadCount(app: FastifyInstance, consultant: Session, requestId: string): Promise<number | undefined> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: consultant.headers });
  expect(response.statusCode).toBe(200);
  return response.json<{ items: Array<{ id: string; downloadCount: number }> }>().items.find((item) => item.id === requestId)?.downloadCount;
}

describe('faults: the MongoDB key store goes down', () => {
  let dataDir: string;
  let mongo: Jongodb;
  let t: TestApp;
  let org: Session;
  let consultant: Session;
  let grantedId: string;
  let pendingId: string;
  const ghost = uniqueName('ghost');
  const envFor = (uri: string) => ({ MONGODB_URI: withDatabase(uri, `sfe_${randomBytes(4).toString('hex')}`), KEY_STORE_TIMEOUT_MS: '500' });

  beforeAll(async () => {
    dataDir = await makeDataDir();
    mongo = await startJongodb();
    t = await buildTestApp({ dataDir, env: envFor(mongo.uri) });
    org = await signUp(t.app, 'organization', { password: PASSWORD });
    consultant = await signUp(t.app, 'consultant', { password: PASSWORD });
    grantedId = await requestAccess(t.app, consultant, await upload(t.app, org, 'granted.bin'));
    pendingId = await requestAccess(t.app, consultant, await upload(t.app, org, 'pending.bin'));
    const approve = await t.app.inject({
      method: 'POST',
      url: `/api/v1/access-requests/${grantedId}/approve`,
      headers: org.headers,
      payload: { maxDownloads: 5 },
    });
    expect(approve.statusCode, approve.body).toBe(200);
    // While the store is up the grant works, and the count moves.
    const first = await download(t.app, consultant, grantedId);
    expect(first.statusCode, first.body.slice(0, 200)).toBe(200);
    expect(await downloadCount(t.app, consultant, grantedId)).toBe(1);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);

    await mongo.stop();
  });

  afterAll(async () => {
    await t.close();
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a registration with 503 KEY_STORE_UNAVAILABLE', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: ghost, password: PASSWORD, role: 'consultant' },
    });
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 503, code: 'KEY_STORE_UNAVAILABLE' });
  });

  it('still approves a request (no private key is needed for that)', async () => {
    const response = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${pendingId}/approve`, headers: org.headers, payload: {} });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'approved' });
  });

  it('refuses a download with 503 and does not count it', async () => {
    const response = await download(t.app, consultant, grantedId);
    expect(response.statusCode, response.body.slice(0, 300)).toBe(503);
    expect(response.json()).toMatchObject({ status: 503, code: 'KEY_STORE_UNAVAILABLE' });
    expect(await downloadCount(t.app, consultant, grantedId)).toBe(1);
  });

  it('reports not ready naming the key store, while /healthz stays 200', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ checks: { database: 'ok', keyStore: 'down' } });
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
  });

  it('left no user row behind: the same username registers once a key store is back', async () => {
    await t.close();
    await mongo.stop();
    // jongodb keeps nothing across a restart, so a new one stands in for "the store is back".
    mongo = await startJongodb();
    t = await buildTestApp({ dataDir, env: envFor(mongo.uri) });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: ghost, password: PASSWORD, role: 'consultant' },
    });
    expect(response.statusCode, response.body).toBe(201);
    // ...and the earlier registrations are still in the app DB: the check can fail.
    const taken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: consultant.username, password: PASSWORD, role: 'consultant' },
    });
    expect(taken.statusCode, taken.body).toBe(409);
  });
});
