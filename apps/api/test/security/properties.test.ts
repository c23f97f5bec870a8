import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import {
  actOnRequest,
  bearer,
  downloadRaw,
  expectProblem,
  freshIp,
  grantedPair,
  loginAs,
  loginRaw,
  newUser,
  registerUser,
  requestAccess,
  uploadFile,
} from '../helpers/fixtures.ts';
import { routesOf, urlOf, type RouteSpec } from './route-list.ts';

/**
 * The security properties of the API, each a test that fails if the property breaks.
 * Routes come from the app's own OpenAPI document, so a new route is covered at once.
 */
const PUBLIC_API_ROUTES = new Set(['POST /api/v1/auth/register', 'POST /api/v1/auth/login', 'POST /api/v1/auth/refresh', 'POST /api/v1/auth/logout', 'GET /api/v1/audit/public-key',
  // The second sign-in step: its credential is the mfaToken in the body, not a bearer token.
  'POST /api/v1/auth/mfa', 'POST /api/v1/auth/mfa/webauthn/options']);
/** Keys that must never appear in any JSON answer. */
const FORBIDDEN_KEYS = new Set([
  'passwordHash',
  'password',
  'currentPassword',
  'newPassword',
  'wrappedKey',
  'wrappedSymmetricKey',
  'encryptedPrivateKey',
  'privateKeyDer',
  'privateKeyPem',
  'salt',
  'nonce',
  'encryptionKey',
  'tokenHash',
  'failedLoginCount',
  'tokenVersion',
]);

function forbiddenKeysIn(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => forbiddenKeysIn(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(FORBIDDEN_KEYS.has(key) ? [`${path}.${key}`] : []),
    ...forbiddenKeysIn(inner, `${path}.${key}`),
  ]);
}

describe('security properties', () => {
  let t: TestApp;
  let db: PrismaClient;
  let routes: RouteSpec[];
  let secret: Uint8Array;
  let org: Session;
  beforeAll(async () => {
    t = await buildTestApp();
    db = createPrismaClient(t.config.databaseUrl);
    routes = routesOf(t.app).filter((route) => route.path.startsWith('/api/v1/'));
    secret = Buffer.from(t.config.jwtSecret);
    org = await newUser(t.app, 'organization');
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
  });

  it('every /api/v1 route is either authenticated or one of the four public auth routes or the audit public key', () => {
    const open = routes.filter((route) => !route.authenticated).map((route) => `${route.method} ${route.path}`);
    expect(open.filter((name) => !PUBLIC_API_ROUTES.has(name))).toEqual([]);
    expect(routes.filter((route) => route.authenticated).length).toBeGreaterThanOrEqual(15);
  });

  it('P1: every authenticated route answers 401 to every hostile token', async () => {
    const claims = decodeJwt(org.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const sign = (payload: Record<string, unknown>, key: Uint8Array = secret, alg = 'HS256') =>
      new SignJWT(payload).setProtectedHeader({ alg }).sign(key);
    const { privateKey: rsaKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [header, body] = org.accessToken.split('.');
    const unsigned = (payload: Record<string, unknown>) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    const tampered = { ...claims, role: 'admin' };
    const tokens: Record<string, string | null> = {
      none: null,
      garbage: 'not-a-jwt',
      'alg none': unsigned(claims),
      'alg none, empty signature kept': `${header}.${body}.`,
      'alg HS512 (not allowed)': await sign(claims, secret, 'HS512'),
      'alg RS256 (confusion)': await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsaKey),
      'wrong secret': await sign(claims, randomBytes(32)),
      expired: await sign({ ...claims, iat: now - 7200, exp: now - 3600 }),
      'not yet valid (nbf)': await sign({ ...claims, nbf: now + 3600 }),
      'wrong aud': await sign({ ...claims, aud: 'someone-else' }),
      'no aud': await sign(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'aud'))),
      'wrong iss': await sign({ ...claims, iss: 'evil' }),
      'no exp': await sign(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp'))),
      'tampered claims, old signature': `${header}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${org.accessToken.split('.')[2]}`,
      'unknown subject': await sign({ ...claims, sub: '00000000-0000-4000-8000-000000000000' }),
      'stale token version': await sign({ ...claims, tv: Number(claims.tv) + 1 }),
      'unknown session': await sign({ ...claims, fid: '00000000-0000-4000-8000-000000000000' }),
    };
    let cells = 0;
    for (const route of routes.filter((r) => r.authenticated)) {
      for (const [name, token] of Object.entries(tokens)) {
        const response = await t.app.inject({
          method: route.method,
          url: urlOf(route),
          headers: token === null ? {} : bearer(token),
          ...(route.hasBody && route.method !== 'GET' ? { payload: {} } : {}),
        });
        expect(response.statusCode, `${route.method} ${route.path} with ${name}`).toBe(401);
        expectProblem(response, 401);
        cells++;
      }
    }
    console.log(`P1: ${routes.filter((r) => r.authenticated).length} routes x ${Object.keys(tokens).length} tokens = ${cells} cells`);
  });

  it('P2/P3: nobody but the owner (or the grant holder) changes or reads a grant or file: 403/404 and nothing changes', async () => {
    const { org: owner, con: holder, file, request } = await grantedPair(t.app);
    const otherOrg = await newUser(t.app, 'organization');
    const otherCon = await newUser(t.app, 'consultant');
    const pendingCon = await newUser(t.app, 'consultant');
    const pending = await requestAccess(t.app, pendingCon, file.id);
    const actors: Record<string, Session> = { owner, holder, otherOrg, otherCon, pendingCon };
    type Call = (s: Session) => Promise<LightMyRequestResponse>;
    const calls: Record<string, { call: Call; allowed: string[] }> = {
      'approve pending': { call: (s) => actOnRequest(t.app, s, pending.id, 'approve', {}), allowed: [] },
      'deny pending': { call: (s) => actOnRequest(t.app, s, pending.id, 'deny', {}), allowed: [] },
      'revoke grant': { call: (s) => actOnRequest(t.app, s, request.id, 'revoke'), allowed: [] },
      'download grant': { call: (s) => downloadRaw(t.app, s, request.id, s.password), allowed: ['holder'] },
      'read file content': { call: (s) => t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: s.headers }), allowed: ['owner'] },
      'delete file': { call: (s) => t.app.inject({ method: 'DELETE', url: `/api/v1/files/${file.id}`, headers: s.headers }), allowed: [] },
    };
    let cells = 0;
    for (const [what, { call, allowed }] of Object.entries(calls)) {
      for (const [who, session] of Object.entries(actors)) {
        if (who === 'owner' && allowed.length === 0) continue; // the owner's own actions are the routes' tests
        const response = await call(session);
        if (allowed.includes(who)) expect(response.statusCode, `${who}: ${what}`).toBeLessThan(300);
        else expect([403, 404], `${who}: ${what} -> ${response.statusCode}`).toContain(response.statusCode);
        cells++;
      }
    }
    // Nothing any of them tried changed the state.
    const rows = await db.accessRequest.findMany({ where: { fileId: file.id }, select: { id: true, status: true } });
    expect(Object.fromEntries(rows.map((row) => [row.id, row.status]))).toEqual({ [request.id]: 'approved', [pending.id]: 'pending' });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}`, headers: owner.headers })).statusCode).toBe(200);
    console.log(`P2/P3: ${cells} matrix cells`);
  });

  it('P4: no answer of any route carries password hashes, wrapped keys, private keys or salts', async () => {
    const { con, request, file } = await grantedPair(t.app, { org });
    const sessions = [org, con];
    let checked = 0;
    for (const route of routes) {
      for (const session of sessions) {
        const id = route.path.includes('access-requests/{id}') ? request.id : route.path.includes('users/{id}') ? session.id : file.id;
        const response = await t.app.inject({
          method: route.method,
          url: urlOf(route, id),
          headers: session.headers,
          ...(route.method !== 'GET' && route.method !== 'DELETE' ? { payload: {} } : {}),
        });
        if (response.headers['content-type']?.toString().includes('json')) {
          expect(forbiddenKeysIn(response.json()), `${route.method} ${route.path}`).toEqual([]);
          expect(response.body).not.toMatch(/BEGIN (RSA |ENCRYPTED )?PRIVATE KEY/);
          checked++;
        }
      }
    }
    // The richest answers, with real data: lists, keys, login.
    for (const url of ['/api/v1/files', '/api/v1/access-requests', '/api/v1/users/me/keys', '/api/v1/auth/me']) {
      const response = await t.app.inject({ method: 'GET', url, headers: con.headers });
      expect(forbiddenKeysIn(response.json()), url).toEqual([]);
      checked++;
    }
    const login = await loginRaw(t.app, con.username, con.password);
    expect(forbiddenKeysIn(login.json())).toEqual([]);
    console.log(`P4: ${checked + 1} JSON answers checked`);
  });

  it('P5: a revoke blocks the very next download', async () => {
    const { org: owner, con, request } = await grantedPair(t.app);
    expect((await downloadRaw(t.app, con, request.id, con.password)).statusCode).toBe(200);
    expect((await actOnRequest(t.app, owner, request.id, 'revoke')).statusCode).toBe(200);
    expectProblem(await downloadRaw(t.app, con, request.id, con.password), 403, 'ACCESS_NOT_APPROVED');
  });

  it('P6: a password change ends the access and refresh tokens of the other sessions at once', async () => {
    const { user, password } = await registerUser(t.app, 'consultant');
    const a = await loginAs(t.app, user.username, password);
    const b = await loginAs(t.app, user.username, password);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: a.headers,
      payload: { currentPassword: password, newPassword: 'a brand new long password' },
    });
    expect(changed.statusCode).toBe(204);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: b.headers }), 401);
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', remoteAddress: freshIp(), payload: { refreshToken: b.refreshToken } }), 401);
  });

  it('P9: an unknown user and a wrong password answer with the same status and body, in the same time within 20%', { timeout: 120_000 }, async () => {
    // The real scrypt cost's order (the suite's own is too cheap for the hash to show
    // over request noise); each sample is a fresh account and client, so no lockout or
    // throttle takes part, and the two kinds alternate so load hits both alike.
    const timing = await buildTestApp({ config: { kdf: { pbkdf2Iterations: 10_000, scrypt: { N: 2 ** 15, r: 8, p: 1 } } } });
    try {
      const timed = async (username: string) => {
        const started = process.hrtime.bigint();
        const response = await loginRaw(timing.app, username, 'wrong password guess');
        return { response, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      const users = [];
      for (let i = 0; i < 9; i++) users.push((await registerUser(timing.app, 'organization')).user);
      await timed(uniqueName('warm-up'));
      const real: number[] = [];
      const ghost: number[] = [];
      for (const user of users) {
        const a = await timed(user.username);
        const b = await timed(uniqueName('ghost'));
        expect(b.response.statusCode).toBe(a.response.statusCode);
        expect(b.response.body).toBe(a.response.body);
        real.push(a.ms);
        ghost.push(b.ms);
      }
      const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;
      const ratio = median(ghost) / median(real);
      console.log(`P9: median wrong password ${median(real).toFixed(1)} ms, unknown user ${median(ghost).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
    } finally {
      await timing.cleanup();
    }
  });

  it('P10: passwords up to 128 characters are accepted whole, never truncated', async () => {
    const password = `${'Zq9!'.repeat(31)}abcd`;
    expect(password).toHaveLength(128);
    const { user } = await registerUser(t.app, 'consultant', { password });
    expectProblem(await loginRaw(t.app, user.username, password.slice(0, 127)), 401, 'INVALID_CREDENTIALS');
    expectProblem(await loginRaw(t.app, user.username, `${password.slice(0, 127)}X`), 401, 'INVALID_CREDENTIALS');
    expect((await loginRaw(t.app, user.username, password)).statusCode).toBe(200);
  });

  it('P19: an over-size upload leaves no row and no blob', async () => {
    const small = await buildTestApp({ config: { maxUploadBytes: 1000 } });
    try {
      const owner = await newUser(small.app, 'organization');
      const before = await createPrismaClient(small.config.databaseUrl);
      const response = await small.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { ...owner.headers, 'content-type': 'multipart/form-data; boundary=x' },
        payload: `--x\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n${'A'.repeat(5000)}\r\n--x--\r\n`,
      });
      expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(await before.encryptedFile.count()).toBe(0);
      await before.$disconnect();
      const { blobFiles } = await import('../faults/blob-dir.ts');
      expect(await blobFiles(small.dataDir)).toEqual([]);
    } finally {
      await small.cleanup();
    }
  });

  it('P23: fuzzed bodies and queries on every route never answer 5xx, stack traces, SQL, paths or Prisma text', async () => {
    const file = await uploadFile(t.app, org, { data: Buffer.from('fuzz target') });
    const json = fc.jsonValue({ maxDepth: 3 });
    const queryValue = fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom('%', '_', "'", '%00', '-1', '1e9', 'null'));
    let runs = 0;
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(json, fc.dictionary(fc.constantFrom(...route.queryParameters, 'extra'), queryValue, { maxKeys: 3 }), async (body, query) => {
          runs++;
          const search = new URLSearchParams(query).toString();
          const response = await t.app.inject({
            method: route.method,
            url: `${urlOf(route, file.id)}${search ? `?${search}` : ''}`,
            headers: route.authenticated ? org.headers : {},
            remoteAddress: freshIp(),
            ...(route.method !== 'GET' ? { payload: JSON.stringify(body), headers: { ...(route.authenticated ? org.headers : {}), 'content-type': 'application/json' } } : {}),
          });
          expect(response.statusCode, `${route.method} ${route.path} ${search} ${JSON.stringify(body)}`).toBeLessThan(500);
          // Errors are problem+json free of internals (expectProblem checks both).
          if (response.statusCode >= 400) expectProblem(response, response.statusCode);
        }),
        { numRuns: 12, seed: 9 },
      );
    }
    console.log(`P23: ${routes.length} routes, ${runs} fuzz runs`);
  });
});

