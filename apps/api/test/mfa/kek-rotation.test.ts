import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { createPrismaClient } from '../../src/db/client.ts';
import { newAdmin } from '../helpers/admin.ts';
import { buildTestApp, makeDataDir, type Session, type TestApp } from '../helpers/app.ts';
import { newUser, PASSWORD, uploadFile } from '../helpers/fixtures.ts';
import { awayFromStepEdge, enrolTotp, mfaRaw, mfaTokenOf, totpAt } from '../helpers/mfa.ts';

const K0 = randomBytes(32).toString('hex');
const K1 = randomBytes(32).toString('hex');
const id = (hex: string) => kekId(parseKek(hex));

/** TOTP secrets are KEK-wrapped values: counted per key id, re-wrapped by the rotation, verified. */
describe('KEK rotation re-wraps TOTP secrets', () => {
  let dataDir: string;
  let t: TestApp;
  let user: Session;
  let secret: string;
  let adminName: { username: string; password: string };
  const start = (env: Record<string, string>) => buildTestApp({ dataDir, env: { KEK_ROTATION_BATCH_SIZE: '2', ...env } });

  beforeAll(async () => {
    dataDir = await makeDataDir();
    t = await start({ MASTER_KEY: K0 });
    const prisma = createPrismaClient(t.config.databaseUrl);
    const admin = await newAdmin(t, prisma);
    await prisma.$disconnect();
    adminName = { username: admin.username, password: admin.password };
    const org = await newUser(t.app, 'organization');
    await uploadFile(t.app, org, { data: Buffer.from('one file') });
    // Three secrets with a batch size of 2: more than one batch.
    for (let i = 0; i < 2; i++) await enrolTotp(t.app, await newUser(t.app, 'consultant'));
    user = await newUser(t.app, 'consultant');
    ({ secret } = await enrolTotp(t.app, user));
    await t.close();
  });
  afterAll(async () => t.cleanup());

  const loginAdmin = async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: adminName });
    return { authorization: `Bearer ${response.json<{ accessToken: string }>().accessToken}` };
  };

  it('counts them in GET /admin/kek, moves them to the new key, and TOTP sign-in works with the old key gone', async () => {
    t = await start({ MASTER_KEY: K1, MASTER_KEY_PREVIOUS: K0 });
    const headers = await loginAdmin();
    const before = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers })).json();
    expect(before.keys).toEqual([
      { keyId: id(K1), wrappedDeks: 0, active: true, configured: true },
      { keyId: id(K0), wrappedDeks: 4, active: false, configured: true },
    ]);
    const started = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/rotate', headers });
    expect(started.statusCode, started.body).toBe(202);
    let rotation = started.json();
    expect(rotation).toMatchObject({ total: 4 });
    for (let i = 0; i < 200 && rotation.status === 'running'; i++) {
      await sleep(25);
      rotation = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/kek/rotations/${rotation.id}`, headers })).json();
    }
    expect(rotation).toMatchObject({ status: 'completed', total: 4, done: 4, rewrapped: 4, failed: 0 });
    const after = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers })).json();
    expect(after.keys).toEqual([
      { keyId: id(K1), wrappedDeks: 4, active: true, configured: true },
      { keyId: id(K0), wrappedDeks: 0, active: false, configured: true },
    ]);
    const verify = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/verify', headers, payload: {} });
    expect(verify.json()).toMatchObject({ checked: 4, ok: true });
    await t.close();

    // The old key retired: nothing needs it any more, and the code still opens.
    t = await start({ MASTER_KEY: K1 });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const step = await awayFromStepEdge();
    const signedIn = await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 1) });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    await t.close();
  });

  it('without the key that wraps a secret, the sign-in answers KEK_UNAVAILABLE and /readyz names kek', async () => {
    // Back to a ring that lacks K1: the secrets (and the file) are under K1 now.
    t = await start({ MASTER_KEY: K0 });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ checks: { kek: 'down' } });
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const step = await awayFromStepEdge();
    const answer = await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 2) });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ code: 'KEK_UNAVAILABLE' });
  });
});
