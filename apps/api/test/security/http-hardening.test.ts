import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';
import { requestLoggerFactory } from '../../src/lib/request-logger.ts';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELMET, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TEST_KDF, buildTestApp, makeDataDir, type Session, type TestApp } from '../helpers/app.ts';
import { databaseEnv } from '../helpers/database.ts';
import { expectProblem, freshIp, grantedPair, newUser, registerUser, uploadFile } from '../helpers/fixtures.ts';

/** Issue 9, items 8, 9, 11 and 12: client input never answers 500 or Fastify's own JSON. */
describe('HTTP edge hardening', () => {
  let t: TestApp;
  let org: Session;
  beforeAll(async () => {
    t = await buildTestApp({ config: { maxUploadBytes: 1_000_000 } });
    org = await newUser(t.app, 'organization');
  });
  afterAll(() => t.cleanup());

  describe('malformed multipart (9.8)', () => {
    const boundary = '----sfe-hostile';
    it('a body without its closing boundary is 400, not 500', async () => {
      const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello world`;
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { ...org.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expectProblem(response, 400, 'VALIDATION_FAILED');
    });
    it('multipart/form-data without a boundary is 400 (or 415), not 500', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { ...org.headers, 'content-type': 'multipart/form-data' },
        payload: 'anything',
      });
      expect([400, 415]).toContain(response.statusCode);
      expectProblem(response, response.statusCode);
    });
    it('two file parts are 400 VALIDATION_FAILED, not 413', async () => {
      const file = (name: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${name}\r\n`;
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { ...org.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: `${file('a.txt')}${file('b.txt')}--${boundary}--\r\n`,
      });
      expectProblem(response, 400, 'VALIDATION_FAILED');
    });
  });

  it('a path with bad percent-encoding is a problem+json 400 with the security headers (9.9)', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/files/%E0%A4%A', headers: org.headers });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(response.headers['strict-transport-security']).toBeDefined();
  });

  it("every response carries exactly helmet's headers for our configuration, as helmet itself sets them", async () => {
    const reference = new ServerResponse(new IncomingMessage(new Socket()));
    helmet(HELMET)(reference.req, reference, () => {});
    const expected = reference.getHeaders();
    expect(Object.keys(expected).length).toBeGreaterThan(8);
    const org = await newUser(t.app, 'organization');
    const responses = await Promise.all([
      t.app.inject({ method: 'GET', url: '/healthz' }),
      t.app.inject({ method: 'GET', url: '/api/v1/files' }),
      t.app.inject({ method: 'GET', url: '/api/v1/files', headers: org.headers }),
      t.app.inject({ method: 'GET', url: '/no-such-route' }),
    ]);
    for (const response of responses) {
      for (const [name, value] of Object.entries(expected)) expect([name, response.headers[name]]).toEqual([name, String(value)]);
    }
  });

  it('login and refresh answers are Cache-Control: no-store (9.11)', async () => {
    const { user, password } = await registerUser(t.app, 'consultant');
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: freshIp(), payload: { username: user.username, password } });
    expect(login.statusCode).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      remoteAddress: freshIp(),
      payload: { refreshToken: login.json().refreshToken },
    });
    expect(refresh.statusCode).toBe(200);
    expect(refresh.headers['cache-control']).toBe('no-store');
  });

  describe('ranges (9.12)', () => {
    it('bytes=5-4 is ignored: 200 with the whole file', async () => {
      const data = Buffer.from('0123456789abcdef');
      const file = await uploadFile(t.app, org, { data });
      const response = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: { ...org.headers, range: 'bytes=5-4' } });
      expect(response.statusCode).toBe(200);
      expect(response.rawPayload.equals(data)).toBe(true);
    });
    it('the consultant download honours a single Range with 206', async () => {
      const data = Buffer.from('consultant range payload 0123456789');
      const { con, request } = await grantedPair(t.app, { data, org });
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/v1/access-requests/${request.id}/download`,
        headers: { ...con.headers, range: 'bytes=11-15' },
        payload: { password: con.password },
      });
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes 11-15/${data.length}`);
      expect(response.rawPayload.toString()).toBe(data.subarray(11, 16).toString());
    });
  });

  describe('schemas take types as sent (9.12)', () => {
    it('rejects {"reason":123} and "keySize":"4096"', async () => {
      const file = await uploadFile(t.app, org, { data: Buffer.from('x') });
      const con = await newUser(t.app, 'consultant');
      const reason = await t.app.inject({ method: 'POST', url: `/api/v1/files/${file.id}/access-requests`, headers: con.headers, payload: { reason: 123 } });
      expectProblem(reason, 400, 'VALIDATION_FAILED');
      const keySize = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        remoteAddress: freshIp(),
        payload: { username: `ks-${Date.now()}`, password: 'correct horse battery staple', role: 'consultant', keySize: '4096' },
      });
      expectProblem(keySize, 400, 'VALIDATION_FAILED');
    });
    it('still reads ?limit= from the query string', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/files?limit=2', headers: org.headers });
      expect(response.statusCode).toBe(200);
    });
    it('a text/plain body is not parsed as JSON', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: freshIp(),
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ username: 'someone', password: 'whatever-password' }),
      });
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  it('?q= treats _ and % as literal characters (9.12)', async () => {
    const owner = await newUser(t.app, 'organization');
    await uploadFile(t.app, owner, { data: Buffer.from('1'), filename: 'report.txt' });
    await uploadFile(t.app, owner, { data: Buffer.from('2'), filename: 'a_b.txt' });
    await uploadFile(t.app, owner, { data: Buffer.from('3'), filename: '100%.txt' });
    const names = async (q: string) =>
      (await t.app.inject({ method: 'GET', url: `/api/v1/files?q=${encodeURIComponent(q)}`, headers: owner.headers }))
        .json<{ items: Array<{ filename: string }> }>()
        .items.map((item) => item.filename)
        .sort();
    expect(await names('_')).toEqual(['a_b.txt']);
    expect(await names('%')).toEqual(['100%.txt']);
    expect(await names('REPORT')).toEqual(['report.txt']);
  });

  it('a token without aud is refused (9.12)', async () => {
    const claims = JSON.parse(Buffer.from(org.accessToken.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    const { aud: _aud, ...rest } = claims;
    const forged = await new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(t.config.jwtSecret));
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${forged}` } });
    expectProblem(response, 401);
  });

  it('usernames differing only by case are one username (9.12)', async () => {
    const base = `CaseFold${Date.now()}`;
    await registerUser(t.app, 'organization', { username: base.toUpperCase() });
    const clash = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      remoteAddress: freshIp(),
      payload: { username: base.toLowerCase(), password: 'correct horse battery staple', role: 'organization' },
    });
    expectProblem(clash, 409, 'CONFLICT');
  });

  /** The log lines a fresh app at LOG_LEVEL=info writes while `requests` run. */
  async function logLinesOf(requests: (app: FastifyInstance) => Promise<unknown>): Promise<string[]> {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        callback();
      },
    });
    const dataDir = await makeDataDir();
    const config = { ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', DATA_DIR: dataDir, ...databaseEnv(dataDir) }), kdf: TEST_KDF };
    const app = await buildApp(config, { logStream: stream });
    try {
      await requests(app);
    } finally {
      await app.close();
    }
    return lines;
  }

  it('logs request URLs without their query string (9.12)', async () => {
    const lines = await logLinesOf((app) => app.inject({ method: 'GET', url: '/api/v1/files?q=canary-query-secret' }));
    expect(lines.join('')).toMatch(/\/api\/v1\/files/);
    expect(lines.join('')).not.toContain('canary-query-secret');
  });

  it('writes one access line per request, when it completes: request line, status, time', async () => {
    const lines = await logLinesOf(async (app) => {
      await app.inject({ method: 'GET', url: '/healthz' });
      await app.inject({ method: 'GET', url: '/api/v1/auth/me?token=canary', headers: { authorization: 'Bearer canary-bearer' } });
    });
    const requestLines = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => 'reqId' in entry);
    expect(requestLines.map((entry) => entry.msg)).toEqual(['request completed', 'request completed']);
    expect(requestLines.map((entry) => [entry.req, entry.res])).toEqual([
      [expect.objectContaining({ method: 'GET', url: '/healthz' }), { statusCode: 200 }],
      [expect.objectContaining({ method: 'GET', url: '/api/v1/auth/me' }), { statusCode: 401 }],
    ]);
    for (const entry of requestLines) expect(entry.responseTime).toEqual(expect.any(Number));
    expect(lines.join('')).not.toContain('canary');
  });

  it('writes no access line for a route whose own log level is above info, and one for a route at debug', async () => {
    const lines = await logLinesOf(async (app) => {
      app.get('/quiet-route', { logLevel: 'warn' }, async () => ({ ok: true }));
      app.get('/chatty-route', { logLevel: 'debug' }, async (request) => {
        request.log.debug('route detail');
        return { ok: true };
      });
      await app.inject({ method: 'GET', url: '/quiet-route' });
      await app.inject({ method: 'GET', url: '/chatty-route' });
      await app.inject({ method: 'GET', url: '/healthz' });
    });
    const entries = lines.map((line) => JSON.parse(line) as { reqId?: string; msg?: string; req?: { url?: string } }).filter((entry) => entry.reqId);
    expect(entries.map((entry) => [entry.msg, entry.req?.url])).toEqual([
      ['route detail', undefined],
      ['request completed', '/chatty-route'],
      ['request completed', '/healthz'],
    ]);
    // Each line names its own request.
    expect(entries[0]?.reqId).toBe(entries[1]?.reqId);
    expect(entries[1]?.reqId).not.toBe(entries[2]?.reqId);
  });

  it('gives each request a logger whose lines carry its id, built only when a line is written', async () => {
    const lines = await logLinesOf(async (app) => {
      const log = requestLoggerFactory(app.log, { reqId: 'req-a' }, {});
      log.debug('below the level: not written');
      log.info({ password: 'canary-password' }, 'first line');
      log.child({ part: 'child' }).warn('from a child');
      expect(log.level).toBe('info');
      // A route's own level (Fastify passes it as an option) is the child's.
      requestLoggerFactory(app.log, { reqId: 'req-b' }, { level: 'debug' }).debug('at the route level');
    });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => typeof entry.reqId === 'string');
    expect(entries.map(({ reqId, msg, part }) => ({ reqId, msg, part }))).toEqual([
      { reqId: 'req-a', msg: 'first line', part: undefined },
      { reqId: 'req-a', msg: 'from a child', part: 'child' },
      { reqId: 'req-b', msg: 'at the route level', part: undefined },
    ]);
    expect(entries[0]?.password).toBe('[redacted]');
  });
});

