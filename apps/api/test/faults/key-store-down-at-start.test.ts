import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, login, register, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/free-port.ts';
import { startJongodb, type Jongodb } from '../helpers/jongodb.ts';

// MongoDB may come up after the API (a restart, an orchestrator's ordering). The API
// must start anyway, say what is down, refuse what needs the key store with 503, and
// recover by itself once the store answers.
describe('faults: the key store is down when the API starts', () => {
  let t: TestApp;
  let mongo: Jongodb | undefined;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    t = await buildTestApp({ env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/sfe`, KEY_STORE_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => {
    await t.cleanup();
    await mongo?.stop();
  });

  it('serves, reports the key store down and answers 503 for what needs it, writing nothing', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { database: 'ok', keyStore: 'down' } });

    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: 'early.bird', password: 'a long enough password', role: 'consultant' },
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().code).toBe('KEY_STORE_UNAVAILABLE');
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^sfe_key_store_errors_total [1-9]/m);
    const noUser = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'early.bird', password: 'a long enough password' } });
    expect(noUser.statusCode).toBe(401);
  });

  it('recovers without a restart once the key store answers', async () => {
    mongo = await startJongodb({ port });
    await expect
      .poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 20_000, interval: 250 })
      .toBe(200);
    const user = await register(t.app, 'consultant', { username: 'early.bird' });
    const session = await login(t.app, user.username, user.password);
    const keys = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: session.headers });
    expect(keys.statusCode).toBe(200);
    expect(keys.json().privateKey).toMatchObject({ accessCount: 0, kdf: 'pbkdf2-sha256' });
  });
});
