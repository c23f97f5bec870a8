import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { expectNoInternals, expectProblem, freshIp, newUser } from '../helpers/fixtures.ts';

const ID = '00000000-0000-4000-8000-000000000000';
/** Every protected route of the contract, with a body that passes its schema where it has one. */
const PROTECTED: Array<[method: 'GET' | 'POST' | 'DELETE', url: string, body?: Record<string, unknown>]> = [
  ['GET', '/api/v1/auth/me'],
  ['GET', '/api/v1/users/me/keys'],
  ['POST', '/api/v1/users/me/keys/rotate', { password: 'some long password' }],
  ['POST', '/api/v1/users/me/password', { currentPassword: 'some long password', newPassword: 'another long password' }],
  ['GET', `/api/v1/users/${ID}/public-key`],
  ['GET', '/api/v1/files'],
  ['GET', `/api/v1/files/${ID}`],
  ['GET', `/api/v1/files/${ID}/content`],
  ['DELETE', `/api/v1/files/${ID}`],
  ['POST', `/api/v1/files/${ID}/access-requests`, { reason: 'because' }],
  ['GET', '/api/v1/access-requests'],
  ['POST', `/api/v1/access-requests/${ID}/approve`, {}],
  ['POST', `/api/v1/access-requests/${ID}/deny`, {}],
  ['POST', `/api/v1/access-requests/${ID}/revoke`, {}],
  ['POST', `/api/v1/access-requests/${ID}/download`, { password: 'some long password' }],
];

describe('errors are RFC 9457 problems', () => {
  let t: TestApp;
  let org: Session;
  beforeAll(async () => {
    t = await buildTestApp();
    org = await newUser(t.app, 'organization');
  });
  afterAll(async () => t.cleanup());

  it.each([
    ['GET', '/api/v1/nope'],
    ['GET', '/api/v1'],
    ['GET', '/api/v2/files'],
    ['POST', '/api/v1/files/abc/def/ghi'],
    ['GET', '/definitely/not/here.php'],
  ] as const)('an unknown route %s %s is 404 NOT_FOUND', async (method, url) => {
    expectProblem(await t.app.inject({ method, url, headers: org.headers }), 404, 'NOT_FOUND');
  });

  it('an unsupported method on a known path is a 404 or 405 problem', async () => {
    const response = await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/me', headers: org.headers });
    expectProblem(response, response.statusCode === 405 ? 405 : 404);
  });

  it('malformed JSON is 400 VALIDATION_FAILED', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "a", "password": ',
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
  });

  it('a JSON body that is not an object is 400 VALIDATION_FAILED', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/json' },
      payload: '["a","b"]',
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
  });

  it('a prototype-pollution body is rejected, not merged', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/json' },
      payload: '{"username":"someone","password":"whatever pass","__proto__":{"admin":true}}',
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('an unsupported content type on a JSON route is a 415 problem', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/xml' },
      payload: '<login><username>a</username></login>',
    });
    expectProblem(response, 415);
  });

  it('a text/plain body on a JSON route is a 4xx problem', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'text/plain' },
      payload: 'username=a&password=b',
    });
    expectProblem(response, response.statusCode === 415 ? 415 : 400);
  });

  it('a JSON body over the body limit is 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'a', password: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each(PROTECTED)('%s %s without a token or with an invalid one is 401 UNAUTHORIZED', async (method, url, body) => {
    for (const headers of [{}, { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.invalid' }]) {
      const response = await t.app.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
      expectProblem(response, 401, 'UNAUTHORIZED');
    }
  });

  // Authentication comes before validation: an anonymous caller learns nothing about a
  // route's schema. One test, listing every route that answers otherwise.
  it('anonymous requests with an invalid body, query or id are 401, not 400', async () => {
    const probes: Array<[method: 'GET' | 'POST' | 'DELETE', url: string, body?: Record<string, unknown>]> = [
      ...PROTECTED.filter(([, , body]) => body !== undefined).map(([method, url]) => [method, url, { unexpected: true }] as [typeof method, string, Record<string, unknown>]),
      ['GET', '/api/v1/files?limit=9999'],
      ['GET', '/api/v1/access-requests?status=bogus'],
      ['GET', '/api/v1/files/bad.id'],
      ['GET', '/api/v1/users/bad.id/public-key'],
    ];
    const wrong: string[] = [];
    for (const [method, url, body] of probes) {
      const response = await t.app.inject({ method, url, ...(body ? { payload: body } : {}) });
      if (response.statusCode !== 401) wrong.push(`${method} ${url} -> ${response.statusCode}`);
      else expectProblem(response, 401, 'UNAUTHORIZED');
    }
    expect(wrong).toEqual([]);
  });

  it('problem type, title and detail are consistent for one code', async () => {
    const a = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    const b = await t.app.inject({ method: 'GET', url: '/api/v1/also-nope' });
    expect(a.json<{ type: string }>().type).toBe(b.json<{ type: string }>().type);
    expect(a.json<{ title: string }>().title).toBe(b.json<{ title: string }>().title);
  });

  it('leaks no internals for a hostile path or id', async () => {
    for (const url of [
      '/api/v1/files/..%2F..%2Fetc%2Fpasswd',
      '/api/v1/files/%00',
      "/api/v1/files/1'%20OR%20'1'='1",
      `/api/v1/files/${'x'.repeat(5000)}`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: org.headers });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, url).toBeLessThan(500);
      expectProblem(response, response.statusCode);
      expectNoInternals(response.body);
    }
  });

  it('answers malformed percent-encoding and over-long parameters as problems with security headers', async () => {
    // An over-long parameter is 400 from the router, or 404 when the SPA's catch-all
    // route is registered (a built SPA) and takes the path: either way a problem.
    for (const [url, statuses] of [
      ['/api/v1/files/%E0%A4%A', [400]],
      [`/api/v1/files/${'y'.repeat(300)}`, [400, 404]],
    ] as const) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(statuses, url).toContain(response.statusCode);
      expectProblem(response, response.statusCode);
      expect(response.json().code).toBe(response.statusCode === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toBeDefined();
    }
  });

  it('sets security headers on problems too', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });
});
