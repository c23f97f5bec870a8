import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { loginRaw } from '../helpers/fixtures.ts';

describe('health and metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.cleanup());

  it('GET /healthz answers 200 { status: ok } without auth', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ status: 'ok' });
  });

  it('GET /readyz answers 200 while the database and the key store answer', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', keyStore: 'ok' } });
  });

  it('GET /metrics is Prometheus text with request counts and failed logins', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz' });
    const failed = await loginRaw(t.app, 'nobody-here', 'not the password');
    expect(failed.statusCode).toBe(401);

    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^# HELP /m);
    expect(response.body).toMatch(/^# TYPE \S+ counter$/m);
    // Some request counter has seen /healthz; some failed-login counter is at least 1.
    expect(response.body).toMatch(/^\S*requests?\S*\{[^}]*\/healthz[^}]*\} [1-9]/m);
    expect(response.body).toMatch(/^\S*fail\S*login\S* [1-9]/m);
  });

  it('health endpoints need no token and leak no internals', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).not.toMatch(/\/work\/|sfe-test-|MASTER_KEY|JWT_SECRET/);
    }
  });
});
