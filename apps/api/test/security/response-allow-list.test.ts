import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { adminCall, newAdmin, openDb } from '../helpers/admin.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { actOnRequest, bearer, downloadRaw, freshIp, grantedPair, loginRaw, newUser, refreshRaw, requestAccess, uploadFile, uploadRaw } from '../helpers/fixtures.ts';
import { awayFromStepEdge, mfaTokenOf, SoftAuthenticator, totpAt } from '../helpers/mfa.ts';
import { routesOf, urlOf, type RouteSpec } from './route-list.ts';

/**
 * P4 as an allow-list: every key of every JSON answer, at any depth, is one of the field
 * names below. A new field fails here until someone adds it on purpose, and a secret's
 * name never gets in. The routes come from the OpenAPI document: a route without a flow
 * below fails the test, so a new route is covered as soon as it exists. Each flow drives
 * real calls so the answer is populated (lists hold items, audit entries hold details).
 */
const ALLOWED_KEYS = new Set([
  // problem+json
  'type', 'title', 'status', 'detail', 'code', 'fields', 'name', 'message',
  // pages
  'items', 'nextCursor',
  // health
  'checks', 'database', 'keyStore', 'kek',
  // user, adminUser, tokens
  'user', 'id', 'username', 'role', 'publicKeyFingerprint', 'keyGeneratedAt', 'createdAt',
  'accessToken', 'refreshToken', 'tokenType', 'expiresIn',
  'lastLoginAt', 'failedLogins', 'lockedUntil', 'hasPrivateKey', 'activeGrants',
  // keys
  'algorithm', 'publicKeyPem', 'fingerprint', 'privateKey', 'lastAccessed', 'accessCount', 'kdf', 'iterations', 'rewrappedGrants',
  // files and requests
  'filename', 'contentType', 'size', 'sha256', 'description', 'ownerId', 'ownerName', 'myAccess',
  'fileId', 'consultantId', 'consultantName', 'reason', 'decisionReason', 'processedAt', 'expiresAt',
  'maxDownloads', 'downloadCount', 'downloadsRemaining', 'consultantKeyFingerprint',
  // master key
  'activeKeyId', 'keys', 'keyId', 'wrappedDeks', 'active', 'configured', 'rotation',
  'total', 'done', 'rewrapped', 'failed', 'toKeyId', 'startedAt', 'finishedAt', 'checked', 'ok',
  // admin results
  'grantsRevoked', 'privateKeyDeleted', 'disabled', 'sessionsEnded',
  'userId', 'erasedAt', 'privateKeyDestroyed', 'filesShredded', 'pseudonym', 'signature',
  // audit
  'operation', 'details', 'success', 'timestamp', 'ipAddress', 'from', 'to', 'byOperation', 'byDay', 'day', 'firstBrokenId',
  'dryRun', 'auditRecords', 'closedGrants', 'tombstones',
  // audit details (what records say about an operation)
  'targetUserId', 'jobId', 'throughFileId', 'recovered', 'refused', 'until', 'failures', 'shredded', 'rule', 'alertId',
  'requestId', 'wrappedBy', 'purpose', 'bound', 'existed', 'keyDeleted', 'alreadyActive', 'alreadyDisabled', 'subject',
  'privateKeyReencrypted', 'revokedRequests', 'resumed', 'before', 'after', 'durationMs', 'verifyChecked', 'verifyOk',
  // second factors (the WebAuthn options follow the browser API's names)
  'mfaRequired', 'mfaToken', 'methods', 'otpauthUrl', 'recoveryCodes', 'totp', 'webauthn', 'recoveryCodesLeft', 'required',
  'totpRemoved', 'passkeysRemoved', 'recoveryCodesRemoved', 'method', 'left', 'kind',
  'challenge', 'rp', 'displayName', 'pubKeyCredParams', 'alg', 'timeout', 'excludeCredentials', 'transports', 'authenticatorSelection',
  'residentKey', 'requireResidentKey', 'userVerification', 'authenticatorAttachment', 'attestation', 'hints', 'extensions', 'credProps',
  'rpId', 'allowCredentials',
  // alerts
  'severity', 'subjectUserId', 'count', 'firstSeenAt', 'lastSeenAt', 'acknowledged', 'acknowledgedBy',
  // notifications
  'kind', 'readAt', 'unread', 'updated', 'email', 'emailVerified', 'events', 'emailEnabled',
]);

/** Names that must never be a key anywhere, whatever the allow-list says. */
const FORBIDDEN_KEYS = [
  'password', 'passwordHash', 'currentPassword', 'newPassword', 'wrappedKey', 'wrappedSymmetricKey', 'encryptedPrivateKey',
  'privateKeyPem', 'privateKeyDer', 'salt', 'nonce', 'dek', 'kek', 'masterKey', 'encryptionKey', 'tokenHash', 'tokenVersion',
  'failedLoginCount', 'secret', 'jwtSecret',
];

/**
 * The one answer that carries a secret by design: the TOTP set-up shows the shared
 * secret once (API.md), so the authenticator app can be set up by typing it.
 */
const ALLOWED_ON_ROUTE: Record<string, ReadonlySet<string>> = { 'POST /api/v1/users/me/mfa/totp': new Set(['secret']) };

/** Objects whose keys are data (operation names), not field names: only their values are checked. */
const MAP_KEYS = new Set(['byOperation']);

function keysOutsideAllowList(value: unknown, path = '$', parentKey = '', extra: ReadonlySet<string> = new Set()): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keysOutsideAllowList(item, `${path}[${i}]`, '', extra));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(MAP_KEYS.has(parentKey) || ALLOWED_KEYS.has(key) || extra.has(key) ? [] : [`${path}.${key}`]),
    ...keysOutsideAllowList(inner, `${path}.${key}`, key, extra),
  ]);
}

describe('P4: every JSON answer keeps to the response-key allow-list', () => {
  let t: TestApp;
  let db: PrismaClient;
  let routes: RouteSpec[];
  beforeAll(async () => {
    t = await buildTestApp({ env: { ALERT_FAILED_LOGINS_PER_ACCOUNT: '2' } });
    db = openDb(t);
    routes = routesOf(t.app);
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
  });

  it('holds for populated answers of every route in the OpenAPI document', { timeout: 180_000 }, async () => {
    expect(FORBIDDEN_KEYS.filter((key) => ALLOWED_KEYS.has(key))).toEqual(['kek']);
    const admin = await newAdmin(t, db);
    const { org, con, file, request } = await grantedPair(t.app, { approveBody: { maxDownloads: 5, expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    const other = await uploadFile(t.app, org, { data: Buffer.from('second file'), filename: 'second.txt', description: 'a description' });
    const pending = await requestAccess(t.app, con, other.id);
    // Audit records of many kinds, and an alert (two failed sign-ins of one account).
    await downloadRaw(t.app, con, request.id, con.password);
    await downloadRaw(t.app, con, request.id, 'a wrong password here');
    for (let i = 0; i < 2; i++) await loginRaw(t.app, con.username, `wrong ${i}`);
    const throwaway = async () => newUser(t.app, 'consultant');
    const alertId = async () =>
      (await adminCall(t.app, admin, 'GET', '/alerts')).json<{ items: Array<{ id: string }> }>().items[0]?.id ?? 'none';
    let rotationId = 'none';
    // Second factors: one account enrols an authenticator app and a passkey, signs in with it, removes both.
    const mfaUser = await throwaway();
    const authenticator = new SoftAuthenticator();
    let totpSecret = '';
    let registration = { challenge: '' };
    let assertion = { challenge: '' };
    let passkeyId = 'none';
    let mfaToken = '';

    type Flow = () => Promise<LightMyRequestResponse>;
    const get = (session: Session | null, url: string) => t.app.inject({ method: 'GET', url, headers: session?.headers ?? {} });
    const post = (session: Session | null, url: string, payload: Record<string, unknown> = {}) =>
      t.app.inject({ method: 'POST', url, headers: session?.headers ?? {}, payload });
    const flows: Record<string, Flow> = {
      'GET /healthz': () => get(null, '/healthz'),
      'GET /readyz': () => get(null, '/readyz'),
      'POST /api/v1/auth/register': () =>
        t.app.inject({ method: 'POST', url: '/api/v1/auth/register', remoteAddress: freshIp(), payload: { username: `p4-${Date.now()}`, password: 'correct horse battery staple', role: 'consultant' } }),
      'POST /api/v1/auth/login': () => loginRaw(t.app, org.username, org.password),
      'POST /api/v1/auth/refresh': async () => refreshRaw(t.app, (await newUser(t.app, 'organization')).refreshToken),
      'POST /api/v1/auth/logout': async () => post(null, '/api/v1/auth/logout', { refreshToken: (await throwaway()).refreshToken }),
      'GET /api/v1/auth/me': () => get(con, '/api/v1/auth/me'),
      'GET /api/v1/users/me/keys': () => get(con, '/api/v1/users/me/keys'),
      'POST /api/v1/users/me/keys/rotate': () => post(con, '/api/v1/users/me/keys/rotate', { password: con.password }),
      'POST /api/v1/users/me/password': async () => {
        const session = await throwaway();
        return post(session, '/api/v1/users/me/password', { currentPassword: session.password, newPassword: 'another long password' });
      },
      'GET /api/v1/users/{id}/public-key': () => get(org, `/api/v1/users/${con.id}/public-key`),
      'POST /api/v1/files': () => uploadRaw(t.app, org, { data: Buffer.from('third'), filename: 'third.txt' }),
      'GET /api/v1/files': () => get(con, '/api/v1/files'),
      'GET /api/v1/files/{id}': () => get(con, `/api/v1/files/${file.id}`),
      'GET /api/v1/files/{id}/content': () => get(org, `/api/v1/files/${file.id}/content`),
      'POST /api/v1/files/{id}/access-requests': async () => {
        const extra = await uploadFile(t.app, org, { data: Buffer.from('fourth'), filename: 'fourth.txt' });
        return post(con, `/api/v1/files/${extra.id}/access-requests`, { reason: 'allow-list' });
      },
      'GET /api/v1/access-requests': () => get(org, '/api/v1/access-requests'),
      'POST /api/v1/access-requests/{id}/approve': () => actOnRequest(t.app, org, pending.id, 'approve', { maxDownloads: 2 }),
      'POST /api/v1/access-requests/{id}/deny': async () => {
        const extra = await uploadFile(t.app, org, { data: Buffer.from('fifth'), filename: 'fifth.txt' });
        const asked = await requestAccess(t.app, con, extra.id);
        return actOnRequest(t.app, org, asked.id, 'deny', { reason: 'not now' });
      },
      'POST /api/v1/access-requests/{id}/download': () => downloadRaw(t.app, con, pending.id, con.password),
      'POST /api/v1/access-requests/{id}/revoke': () => actOnRequest(t.app, org, pending.id, 'revoke'),
      'DELETE /api/v1/files/{id}': () => t.app.inject({ method: 'DELETE', url: `/api/v1/files/${other.id}`, headers: org.headers }),
      'GET /api/v1/admin/kek': () => adminCall(t.app, admin, 'GET', '/kek'),
      'POST /api/v1/admin/kek/rotate': async () => {
        const response = await adminCall(t.app, admin, 'POST', '/kek/rotate', {});
        rotationId = response.json<{ id: string }>().id;
        return response;
      },
      'POST /api/v1/admin/kek/verify': () => adminCall(t.app, admin, 'POST', '/kek/verify', { deep: true }),
      'GET /api/v1/admin/kek/rotations/{id}': () => adminCall(t.app, admin, 'GET', `/kek/rotations/${rotationId}`),
      'GET /api/v1/audit/public-key': () => get(null, '/api/v1/audit/public-key'),
      'GET /api/v1/admin/users': () => adminCall(t.app, admin, 'GET', '/users'),
      'POST /api/v1/admin/users/{id}/disable': async () => adminCall(t.app, admin, 'POST', `/users/${(await throwaway()).id}/disable`, {}),
      'POST /api/v1/admin/users/{id}/enable': async () => {
        const user = await throwaway();
        await adminCall(t.app, admin, 'POST', `/users/${user.id}/disable`, {});
        return adminCall(t.app, admin, 'POST', `/users/${user.id}/enable`, {});
      },
      'POST /api/v1/admin/users/{id}/revoke-grants': () => adminCall(t.app, admin, 'POST', `/users/${con.id}/revoke-grants`, {}),
      'DELETE /api/v1/admin/users/{id}/private-key': async () => adminCall(t.app, admin, 'DELETE', `/users/${(await throwaway()).id}/private-key`),
      'POST /api/v1/admin/users/{id}/incident': async () => adminCall(t.app, admin, 'POST', `/users/${(await throwaway()).id}/incident`, {}),
      'DELETE /api/v1/admin/users/{id}': async () => adminCall(t.app, admin, 'DELETE', `/users/${(await newUser(t.app, 'organization')).id}`),
      'GET /api/v1/admin/audit': () => adminCall(t.app, admin, 'GET', '/audit?limit=200'),
      'GET /api/v1/admin/audit/report': () => adminCall(t.app, admin, 'GET', '/audit/report'),
      'GET /api/v1/admin/audit/verify': () => adminCall(t.app, admin, 'GET', '/audit/verify'),
      'POST /api/v1/admin/audit/purge': () => adminCall(t.app, admin, 'POST', '/audit/purge', { dryRun: true }),
      'GET /api/v1/admin/alerts': () => adminCall(t.app, admin, 'GET', '/alerts'),
      'POST /api/v1/admin/alerts/{id}/ack': async () => adminCall(t.app, admin, 'POST', `/alerts/${await alertId()}/ack`, {}),
      'GET /api/v1/notifications': () => get(org, '/api/v1/notifications'),
      'GET /api/v1/notifications/unread-count': () => get(org, '/api/v1/notifications/unread-count'),
      'POST /api/v1/notifications/{id}/read': async () => {
        const first = (await get(org, '/api/v1/notifications')).json<{ items: Array<{ id: string }> }>().items[0]?.id ?? 'none';
        return post(org, `/api/v1/notifications/${first}/read`);
      },
      'POST /api/v1/notifications/read-all': () => post(org, '/api/v1/notifications/read-all'),
      'GET /api/v1/users/me/notification-settings': () => get(org, '/api/v1/users/me/notification-settings'),
      'PUT /api/v1/users/me/notification-settings': () =>
        t.app.inject({ method: 'PUT', url: '/api/v1/users/me/notification-settings', headers: org.headers, payload: { email: 'org@example.test', events: ['access_requested'] } }),
      'POST /api/v1/users/me/notification-settings/verify': async () => {
        // No SMTP in this app, so no link is mailed: the pending token is set as the server would.
        const token = 'allow-list-verification-token-0123456789';
        await db.notificationSetting.update({
          where: { userId: org.id },
          data: { verifyTokenHash: createHash('sha256').update(token).digest('hex'), verifyExpiresAt: new Date(Date.now() + 60_000) },
        });
        return post(org, '/api/v1/users/me/notification-settings/verify', { token });
      },
      'POST /api/v1/users/me/mfa/totp': async () => {
        const response = await post(mfaUser, '/api/v1/users/me/mfa/totp');
        totpSecret = response.json<{ secret: string }>().secret;
        return response;
      },
      'POST /api/v1/users/me/mfa/totp/confirm': async () =>
        post(mfaUser, '/api/v1/users/me/mfa/totp/confirm', { code: totpAt(totpSecret, await awayFromStepEdge()) }),
      'POST /api/v1/users/me/mfa/webauthn/options': async () => {
        const response = await post(mfaUser, '/api/v1/users/me/mfa/webauthn/options');
        registration = response.json();
        return response;
      },
      'POST /api/v1/users/me/mfa/webauthn': async () => {
        const response = await post(mfaUser, '/api/v1/users/me/mfa/webauthn', { response: authenticator.register(registration), name: 'Laptop' });
        passkeyId = response.json<{ id: string }>().id;
        return response;
      },
      'GET /api/v1/users/me/mfa': () => get(mfaUser, '/api/v1/users/me/mfa'),
      'POST /api/v1/auth/mfa/webauthn/options': async () => {
        ({ mfaToken } = await mfaTokenOf(t.app, mfaUser.username, mfaUser.password));
        const response = await post(null, '/api/v1/auth/mfa/webauthn/options', { mfaToken });
        assertion = response.json();
        return response;
      },
      'POST /api/v1/auth/mfa': () => post(null, '/api/v1/auth/mfa', { mfaToken, webauthn: authenticator.assert(assertion) }),
      'DELETE /api/v1/users/me/mfa/webauthn/{id}': () =>
        t.app.inject({ method: 'DELETE', url: `/api/v1/users/me/mfa/webauthn/${passkeyId}`, headers: mfaUser.headers, payload: { password: mfaUser.password } }),
      'DELETE /api/v1/users/me/mfa/totp': () =>
        t.app.inject({ method: 'DELETE', url: '/api/v1/users/me/mfa/totp', headers: mfaUser.headers, payload: { password: mfaUser.password } }),
      'POST /api/v1/admin/users/{id}/mfa-reset': async () => adminCall(t.app, admin, 'POST', `/users/${(await throwaway()).id}/mfa-reset`, {}),
    };

    const names = routes.map((route) => `${route.method} ${route.path}`);
    // Both ways: a new route needs a flow here, and a flow names a route that exists.
    expect(names.filter((name) => !(name in flows)), 'routes without a flow in this test').toEqual([]);
    expect(Object.keys(flows).filter((name) => !names.includes(name)), 'flows for routes that are gone').toEqual([]);

    let answers = 0;
    let keysChecked = 0;
    const countKeys = (value: unknown): number => {
      if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countKeys(v), 0);
      if (value === null || typeof value !== 'object') return 0;
      return Object.values(value).reduce<number>((n, v) => n + 1 + countKeys(v), 0);
    };
    const check = (name: string, response: LightMyRequestResponse, route = name) => {
      if (!/json/.test(String(response.headers['content-type'] ?? ''))) return;
      const body = response.json<unknown>();
      expect(keysOutsideAllowList(body, '$', '', ALLOWED_ON_ROUTE[route]), `${name}: keys outside the allow-list`).toEqual([]);
      expect(response.body, name).not.toMatch(/BEGIN (RSA |ENCRYPTED )?PRIVATE KEY/);
      answers++;
      keysChecked += countKeys(body);
    };
    for (const name of Object.keys(flows)) {
      const response = await flows[name]!();
      expect(response.statusCode, `${name}: ${response.body.slice(0, 300)}`).toBeLessThan(300);
      check(name, response);
    }
    // The same routes as other callers see them (errors included), with real ids.
    const sessions = { org, con, admin, anonymous: null };
    for (const route of routes) {
      for (const [who, session] of Object.entries(sessions)) {
        const id = route.path.includes('access-requests/{id}') ? request.id : route.path.includes('users/{id}') ? con.id : file.id;
        const response = await t.app.inject({
          method: route.method,
          url: urlOf(route, id),
          headers: session ? bearer(session.accessToken) : {},
          remoteAddress: freshIp(),
          ...(route.method !== 'GET' && route.method !== 'DELETE' ? { payload: {} } : {}),
        });
        check(`${who}: ${route.method} ${route.path}`, response, `${route.method} ${route.path}`);
      }
    }
    console.log(`P4: ${routes.length} routes, ${answers} JSON answers, ${keysChecked} keys checked against ${ALLOWED_KEYS.size} allowed names`);
  });

  it('the check itself finds a forbidden key at any depth', () => {
    expect(keysOutsideAllowList({ items: [{ id: 'x', details: { wrappedKey: 'AAAA' } }] })).toEqual(['$.items[0].details.wrappedKey']);
    expect(keysOutsideAllowList({ user: { passwordHash: 'h' } })).toEqual(['$.user.passwordHash']);
    expect(keysOutsideAllowList({ byOperation: { login_failed: { total: 1, failed: 1, salt: 'x' } } })).toEqual(['$.byOperation.login_failed.salt']);
  });
});
