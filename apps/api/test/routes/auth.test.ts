import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenResponse, User } from '@sfe/contract';
import { buildTestApp, uniqueName, type TestApp } from '../helpers/app.ts';
import {
  PASSWORD,
  bearer,
  expectProblem,
  expectValidation,
  freshIp,
  loginAs,
  loginRaw,
  newUser,
  refreshRaw,
  registerUser,
} from '../helpers/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function expectUser(user: User, expected: { username: string; role: string }) {
  expect(Object.keys(user)).toEqual(
    expect.arrayContaining(['id', 'username', 'role', 'status', 'publicKeyFingerprint', 'keyGeneratedAt', 'createdAt']),
  );
  expect(typeof user.id).toBe('string');
  expect(user.username).toBe(expected.username);
  expect(user.role).toBe(expected.role);
  expect(user.status).toBe('active');
  expect(typeof user.publicKeyFingerprint).toBe('string');
  expect(user.publicKeyFingerprint?.length).toBeGreaterThan(0);
  expect(user.keyGeneratedAt).toMatch(ISO);
  expect(user.createdAt).toMatch(ISO);
  const text = JSON.stringify(user);
  expect(text).not.toMatch(/password|hash|private/i);
}

const register = (t: TestApp, payload: Record<string, unknown>, ip = freshIp()) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/register', remoteAddress: ip, payload });

const me = (t: TestApp, token: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });

describe('auth routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.cleanup());

  describe('POST /auth/register', () => {
    it('creates an organization and a consultant: 201 { user } with the named fields', async () => {
      for (const role of ['organization', 'consultant'] as const) {
        const username = uniqueName(role);
        const response = await register(t, { username, password: PASSWORD, role });
        expect(response.statusCode, response.body).toBe(201);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expectUser(response.json<{ user: User }>().user, { username, role });
      }
    });

    it('answers 409 CONFLICT for a taken username and keeps the first account', async () => {
      const username = uniqueName('dup');
      expect((await register(t, { username, password: PASSWORD, role: 'organization' })).statusCode).toBe(201);
      const again = await register(t, { username, password: 'another long password', role: 'consultant' });
      expectProblem(again, 409, 'CONFLICT');
      const login = await loginRaw(t.app, username, PASSWORD);
      expect(login.statusCode).toBe(200);
      expect(login.json<TokenResponse>().user.role).toBe('organization');
    });

    it('accepts usernames of 3 and 64 characters from [a-zA-Z0-9._-]', async () => {
      // The app is fresh per test file, so fixed names cannot collide.
      const three = 'a.b';
      const sixtyFour = 'Z_9-'.padEnd(64, 'q');
      for (const username of [three, sixtyFour]) {
        const response = await register(t, { username, password: PASSWORD, role: 'consultant' });
        expect(response.statusCode, `${username}: ${response.body}`).toBe(201);
      }
    });

    it.each([
      ['too short', 'ab'],
      ['too long', 'a'.repeat(65)],
      ['a space', 'has space'],
      ['a slash', 'a/b/c'],
      ['non-ASCII', 'jürgen'],
      ['an at sign', 'me@example.com'],
    ])('rejects a username with %s: 400 naming body.username', async (_label, username) => {
      expectValidation(await register(t, { username, password: PASSWORD, role: 'consultant' }), 'body.username');
    });

    it('rejects a password under 12 characters and accepts exactly 12', async () => {
      expectValidation(
        await register(t, { username: uniqueName('pw'), password: '12345678901', role: 'consultant' }),
        'body.password',
      );
      const ok = await register(t, { username: uniqueName('pw'), password: '123456789012', role: 'consultant' });
      expect(ok.statusCode, ok.body).toBe(201);
    });

    it.each([
      ['role admin', { role: 'admin' }, 'body.role'],
      ['an unknown role', { role: 'root' }, 'body.role'],
      ['keySize 1024', { keySize: 1024 }, 'body.keySize'],
      ['keySize 3072', { keySize: 3072 }, 'body.keySize'],
      ['an unknown field', { isAdmin: true }, 'body.isAdmin'],
    ])('rejects %s: 400 VALIDATION_FAILED', async (_label, extra, field) => {
      const payload = { username: uniqueName('v'), password: PASSWORD, role: 'consultant', ...extra };
      expectValidation(await register(t, payload), field);
    });

    it('rejects a missing field', async () => {
      expectValidation(await register(t, { username: uniqueName('m'), role: 'consultant' }), 'body.password');
      expectValidation(await register(t, { password: PASSWORD, role: 'consultant' }), 'body.username');
    });

    it('generates an RSA-4096 key pair when keySize is 4096', async () => {
      const username = uniqueName('big');
      const response = await register(t, { username, password: PASSWORD, role: 'consultant', keySize: 4096 });
      expect(response.statusCode, response.body).toBe(201);
      const session = await loginAs(t.app, username, PASSWORD);
      const keys = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: session.headers });
      expect(keys.statusCode).toBe(200);
      expect(keys.json<{ algorithm: string }>().algorithm).toBe('RSA-4096');
    });
  });

  describe('POST /auth/login', () => {
    it('answers 200 { accessToken, refreshToken, tokenType: Bearer, expiresIn, user }', async () => {
      const { user } = await registerUser(t.app, 'consultant');
      const response = await loginRaw(t.app, user.username, PASSWORD);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<TokenResponse>();
      expect(typeof body.accessToken).toBe('string');
      expect(body.accessToken.split('.')).toHaveLength(3);
      expect(typeof body.refreshToken).toBe('string');
      expect(body.refreshToken.length).toBeGreaterThanOrEqual(20);
      expect(body.tokenType).toBe('Bearer');
      expect(Number.isInteger(body.expiresIn)).toBe(true);
      expect(body.expiresIn).toBeGreaterThan(0);
      expectUser(body.user, { username: user.username, role: 'consultant' });
      expect(body.user.id).toBe(user.id);
    });

    it('gives a wrong password and an unknown user the same 401 INVALID_CREDENTIALS answer', async () => {
      const { user } = await registerUser(t.app, 'organization');
      const wrong = await loginRaw(t.app, user.username, 'not the right password');
      const unknown = await loginRaw(t.app, uniqueName('ghost'), 'not the right password');
      expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
      expectProblem(unknown, 401, 'INVALID_CREDENTIALS');
      expect(unknown.json()).toEqual(wrong.json());
      expect(unknown.headers['content-type']).toBe(wrong.headers['content-type']);
    });

    it('validates the body', async () => {
      const ip = freshIp();
      expectValidation(
        await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { username: 'someone' } }),
        'body.password',
      );
      expectValidation(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: ip,
          payload: { username: 'someone', password: PASSWORD, otp: '123' },
        }),
        'body.otp',
      );
    });

    it('locks the account after 10 failures: 429 ACCOUNT_LOCKED with Retry-After, even for the right password', async () => {
      const { user } = await registerUser(t.app, 'consultant');
      const ip = freshIp();
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) {
        const response = await loginRaw(t.app, user.username, `wrong password ${i}`, ip);
        expectProblem(response, 401, 'INVALID_CREDENTIALS');
        statuses.push(response.statusCode);
      }
      // The 10th failure is still answered as a failure; it locks the account for what follows.
      const tenth = await loginRaw(t.app, user.username, 'wrong password 10', ip);
      expectProblem(tenth, 401, 'INVALID_CREDENTIALS');
      for (const password of ['wrong password 11', PASSWORD]) {
        const locked = await loginRaw(t.app, user.username, password, freshIp());
        expectProblem(locked, 429, 'ACCOUNT_LOCKED');
        const retryAfter = Number(locked.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      }
      // Another account is unaffected.
      const other = await registerUser(t.app, 'consultant');
      expect((await loginRaw(t.app, other.user.username, PASSWORD, ip)).statusCode).toBe(200);
    });

    it('does not lock after 9 failures, and a success resets the count', async () => {
      const { user } = await registerUser(t.app, 'consultant');
      const ip = freshIp();
      for (let i = 0; i < 9; i++) expect((await loginRaw(t.app, user.username, `bad ${i}`, ip)).statusCode).toBe(401);
      expect((await loginRaw(t.app, user.username, PASSWORD, ip)).statusCode).toBe(200);
      const ip2 = freshIp();
      for (let i = 0; i < 9; i++) expect((await loginRaw(t.app, user.username, `bad again ${i}`, ip2)).statusCode).toBe(401);
      expect((await loginRaw(t.app, user.username, PASSWORD, ip2)).statusCode).toBe(200);
    });
  });

  describe('refresh, logout and me', () => {
    it('GET /auth/me answers 200 { user } for the bearer', async () => {
      const session = await newUser(t.app, 'organization');
      const response = await me(t, session.accessToken);
      expect(response.statusCode).toBe(200);
      const { user } = response.json<{ user: User }>();
      expectUser(user, { username: session.username, role: 'organization' });
      expect(user.id).toBe(session.id);
      // The scheme in any case, as RFC 9110 has it; one token and nothing after it.
      const call = (authorization: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization } });
      expect((await call(`bearer ${session.accessToken}`)).statusCode).toBe(200);
      expect((await call(`BEARER ${session.accessToken}`)).statusCode).toBe(200);
      expectProblem(await call(`Bearer ${session.accessToken} extra`), 401, 'UNAUTHORIZED');
      expectProblem(await call(`Bearer  ${session.accessToken}`), 401, 'UNAUTHORIZED');
    });

    it('GET /auth/me without a token or with a malformed header is 401 UNAUTHORIZED', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' }), 401, 'UNAUTHORIZED');
      for (const authorization of ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer not-a-jwt', 'bearer a.b.c']) {
        const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization } });
        expectProblem(response, 401, 'UNAUTHORIZED');
      }
    });

    it('refresh rotates the pair; reusing the old refresh token is 401 and ends the whole family', async () => {
      const session = await newUser(t.app, 'consultant');
      const first = await refreshRaw(t.app, session.refreshToken);
      expect(first.statusCode, first.body).toBe(200);
      const pair = first.json<TokenResponse>();
      expect(pair.tokenType).toBe('Bearer');
      expect(pair.refreshToken).not.toBe(session.refreshToken);
      expect(pair.user.id).toBe(session.id);
      expect((await me(t, pair.accessToken)).statusCode).toBe(200);

      expectProblem(await refreshRaw(t.app, session.refreshToken), 401);
      // The newer token belongs to the same family and is revoked with it.
      expectProblem(await refreshRaw(t.app, pair.refreshToken), 401);
    });

    it('a refresh token chain keeps working while each token is used once', async () => {
      const session = await newUser(t.app, 'consultant');
      let token = session.refreshToken;
      for (let i = 0; i < 3; i++) {
        const response = await refreshRaw(t.app, token);
        expect(response.statusCode, response.body).toBe(200);
        token = response.json<TokenResponse>().refreshToken;
      }
    });

    it('refresh rejects an unknown token with 401 and a malformed body with 400', async () => {
      expectProblem(await refreshRaw(t.app, 'definitely-not-a-refresh-token'), 401);
      expectValidation(
        await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', remoteAddress: freshIp(), payload: {} }),
        'body.refreshToken',
      );
      expectValidation(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          remoteAddress: freshIp(),
          payload: { refreshToken: 'x', extra: 1 },
        }),
        'body.extra',
      );
    });

    it('logout answers 204 and the refresh token stops working', async () => {
      const session = await newUser(t.app, 'organization');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: session.headers,
        payload: { refreshToken: session.refreshToken },
      });
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expectProblem(await refreshRaw(t.app, session.refreshToken), 401);
    });

    it('logout of one session leaves another session of the same user working', async () => {
      const a = await newUser(t.app, 'organization');
      const b = await loginAs(t.app, a.username, a.password);
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: a.headers, payload: { refreshToken: a.refreshToken } });
      expect((await refreshRaw(t.app, b.refreshToken)).statusCode).toBe(200);
    });
  });

  describe('access tokens', () => {
    const secret = () => new TextEncoder().encode(t.config.jwtSecret);
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it('a token signed with the server secret in the issued shape is accepted (control for the forgeries below)', async () => {
      const session = await newUser(t.app, 'consultant');
      const claims = decodeJwt(session.accessToken);
      const { iat: _iat, exp: _exp, ...rest } = claims;
      const token = await new SignJWT(rest).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('5m').sign(secret());
      expect((await me(t, token)).statusCode).toBe(200);
    });

    it('rejects an expired token with 401', async () => {
      const session = await newUser(t.app, 'consultant');
      const { iat: _iat, exp: _exp, ...rest } = decodeJwt(session.accessToken);
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT(rest)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 1800)
        .sign(secret());
      expectProblem(await me(t, token), 401, 'UNAUTHORIZED');
    });

    it('rejects a token with a flipped signature or an edited payload, though the genuine one was just accepted', async () => {
      const session = await newUser(t.app, 'consultant');
      // Verified tokens are kept for a while (the verifier's cache): a tampered copy is another token.
      expect((await me(t, session.accessToken)).statusCode).toBe(200);
      const [header, payload, signature] = session.accessToken.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      expectProblem(await me(t, `${header}.${payload}.${flipped}`), 401, 'UNAUTHORIZED');

      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const edited = base64url({ ...claims, role: 'admin' });
      expectProblem(await me(t, `${header}.${edited}.${signature}`), 401, 'UNAUTHORIZED');
    });

    it('rejects a token the moment it expires, though it was accepted before', async () => {
      const session = await newUser(t.app, 'consultant');
      const { iat: _iat, exp: _exp, ...rest } = decodeJwt(session.accessToken);
      const expiresAt = Math.floor(Date.now() / 1000) + 2;
      const token = await new SignJWT(rest).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(expiresAt).sign(secret());
      expect((await me(t, token)).statusCode).toBe(200);
      expect((await me(t, token)).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
      expectProblem(await me(t, token), 401, 'UNAUTHORIZED');
    });

    it('rejects alg=none and a token signed with another secret', async () => {
      const session = await newUser(t.app, 'consultant');
      const claims = decodeJwt(session.accessToken);
      const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
      expectProblem(await me(t, none), 401, 'UNAUTHORIZED');
      const { iat: _iat, exp: _exp, ...rest } = claims;
      const other = await new SignJWT(rest)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('x'.repeat(64)));
      expectProblem(await me(t, other), 401, 'UNAUTHORIZED');
    });

    it('after a password change: old access tokens 401, other sessions end, the current session refreshes', async () => {
      const current = await newUser(t.app, 'consultant');
      const other = await loginAs(t.app, current.username, current.password);
      const newPassword = 'a brand new long password';
      const change = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/me/password',
        headers: current.headers,
        payload: { currentPassword: current.password, newPassword },
      });
      expect(change.statusCode, change.body).toBe(204);

      expectProblem(await me(t, other.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await me(t, current.accessToken), 401, 'UNAUTHORIZED');
      expectProblem(await refreshRaw(t.app, other.refreshToken), 401);

      const renewed = await refreshRaw(t.app, current.refreshToken);
      expect(renewed.statusCode, renewed.body).toBe(200);
      expect((await me(t, renewed.json<TokenResponse>().accessToken)).statusCode).toBe(200);

      expectProblem(await loginRaw(t.app, current.username, current.password), 401, 'INVALID_CREDENTIALS');
      expect((await loginRaw(t.app, current.username, newPassword)).statusCode).toBe(200);
    });
  });
});

describe('auth rate limits (30 per minute per client IP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.cleanup());

  const burst = async (send: (ip: string) => Promise<{ statusCode: number }>, ip: string, count: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push((await send(ip)).statusCode);
    return statuses;
  };

  it('login: the 31st request from one IP is 429 RATE_LIMITED with Retry-After; another IP is not limited', async () => {
    // A new unknown name each time: one name alone would hit its lockout (10) before the IP limit.
    let n = 0;
    const send = (ip: string) => loginRaw(t.app, `nobody-at-all-${n++}`, 'wrong password', ip);
    const statuses = await burst(send, '192.0.2.10', 30);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const limited = await send('192.0.2.10');
    expectProblem(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expectProblem(await send('192.0.2.11'), 401, 'INVALID_CREDENTIALS');
  });

  it('register: the 31st request from one IP is 429 RATE_LIMITED', async () => {
    // Invalid bodies still count against the budget and avoid 30 RSA key generations.
    const send = (ip: string) => register(t, { username: 'x', password: 'short', role: 'consultant' }, ip);
    const statuses = await burst(send, '192.0.2.20', 30);
    expect(statuses.every((s) => s === 400)).toBe(true);
    const limited = await send('192.0.2.20');
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send('192.0.2.21')).statusCode).toBe(400);
  });

  it('refresh: the 31st request from one IP is 429 RATE_LIMITED', async () => {
    const send = (ip: string) => refreshRaw(t.app, 'not-a-refresh-token', ip);
    const statuses = await burst(send, '192.0.2.30', 30);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const limited = await send('192.0.2.30');
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send('192.0.2.31')).statusCode).toBe(401);
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is not set', async () => {
    const send = (ip: string, forwarded: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: ip,
        headers: { 'x-forwarded-for': forwarded },
        payload: { username: `nobody-forwarded-${forwarded}`, password: 'wrong password' },
      });
    for (let i = 0; i < 30; i++) expect((await send('192.0.2.40', `198.51.100.${i}`)).statusCode).toBe(401);
    expectProblem(await send('192.0.2.40', '198.51.100.200'), 429, 'RATE_LIMITED');
  });
});
