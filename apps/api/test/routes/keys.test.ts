import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AccessRequestList, MyKeysResponse, PublicKeyResponse, RotateKeysResponse, User } from '@sfe/contract';
import { buildTestApp, makeDataDir, type Session, type TestApp } from '../helpers/app.ts';
import { loadConfig } from '../../src/config.ts';
import { downloadRaw, expectProblem, expectValidation, grantedPair, loginRaw, newUser } from '../helpers/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('own keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.cleanup());

  const myKeys = (s: Session) => t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: s.headers });
  const rotate = (s: Session, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: s.headers, payload });
  const changePassword = (s: Session, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', headers: s.headers, payload });
  const meUser = async (s: Session) =>
    (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.headers })).json<{ user: User }>().user;

  describe('GET /users/me/keys', () => {
    it('answers the named fields, consistent with the user and the public key', async () => {
      const session = await newUser(t.app, 'organization');
      const response = await myKeys(session);
      expect(response.statusCode, response.body).toBe(200);
      const keys = response.json<MyKeysResponse>();
      expect(keys.algorithm).toBe('RSA-2048');
      expect(keys.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
      const key = createPublicKey(keys.publicKeyPem);
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
      const user = await meUser(session);
      expect(keys.fingerprint).toBe(user.publicKeyFingerprint);
      expect(keys.keyGeneratedAt).toMatch(ISO);
      expect(keys.keyGeneratedAt).toBe(user.keyGeneratedAt);
      expect(keys.privateKey).not.toBeNull();
      const pk = keys.privateKey!;
      expect(pk.createdAt).toMatch(ISO);
      expect(pk.lastAccessed === null || ISO.test(pk.lastAccessed)).toBe(true);
      expect(Number.isInteger(pk.accessCount)).toBe(true);
      expect(pk.accessCount).toBeGreaterThanOrEqual(0);
      expect(typeof pk.kdf).toBe('string');
      expect(pk.kdf.length).toBeGreaterThan(0);
      expect(Number.isInteger(pk.iterations)).toBe(true);
      expect(pk.iterations).toBeGreaterThan(0);
      // Never the private key itself, nor what protects it.
      expect(response.body).not.toMatch(/PRIVATE KEY|salt|ciphertext|encrypted/i);
    });

    it('counts private-key use when a consultant downloads', async () => {
      const { con, request } = await grantedPair(t.app);
      const before = (await myKeys(con)).json<MyKeysResponse>().privateKey!;
      expect((await downloadRaw(t.app, con, request.id, con.password)).statusCode).toBe(200);
      const after = (await myKeys(con)).json<MyKeysResponse>().privateKey!;
      expect(after.accessCount).toBe(before.accessCount + 1);
      expect(after.lastAccessed).toMatch(ISO);
    });

    it('is 401 UNAUTHORIZED without a token', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys' }), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /users/me/keys/rotate', () => {
    it('rotates: 200 { fingerprint, keyGeneratedAt, rewrappedGrants } and the new key is published', async () => {
      const session = await newUser(t.app, 'organization');
      const before = (await myKeys(session)).json<MyKeysResponse>();
      const response = await rotate(session, { password: session.password });
      expect(response.statusCode, response.body).toBe(200);
      const rotated = response.json<RotateKeysResponse>();
      expect(rotated.fingerprint).not.toBe(before.fingerprint);
      expect(rotated.keyGeneratedAt).toMatch(ISO);
      expect(rotated.rewrappedGrants).toBe(0);
      const after = (await myKeys(session)).json<MyKeysResponse>();
      expect(after.fingerprint).toBe(rotated.fingerprint);
      expect(after.publicKeyPem).not.toBe(before.publicKeyPem);
      expect((await meUser(session)).publicKeyFingerprint).toBe(rotated.fingerprint);
      const published = await t.app.inject({ method: 'GET', url: `/api/v1/users/${session.id}/public-key`, headers: session.headers });
      expect(published.json<PublicKeyResponse>().fingerprint).toBe(rotated.fingerprint);
    });

    it('with a wrong password: 401 WRONG_PASSWORD and nothing changes', async () => {
      const session = await newUser(t.app, 'consultant');
      const before = (await myKeys(session)).json<MyKeysResponse>();
      expectProblem(await rotate(session, { password: 'not my password at all' }), 401, 'WRONG_PASSWORD');
      const after = (await myKeys(session)).json<MyKeysResponse>();
      expect(after.fingerprint).toBe(before.fingerprint);
      expect(after.publicKeyPem).toBe(before.publicKeyPem);
      expect(after.keyGeneratedAt).toBe(before.keyGeneratedAt);
    });

    it('re-wraps a consultant approved grant; the consultant still downloads with the new key', async () => {
      const { con, org, request, data } = await grantedPair(t.app);
      const response = await rotate(con, { password: con.password });
      expect(response.statusCode, response.body).toBe(200);
      const rotated = response.json<RotateKeysResponse>();
      expect(rotated.rewrappedGrants).toBe(1);

      const list = await t.app.inject({ method: 'GET', url: `/api/v1/access-requests?fileId=${request.fileId}`, headers: org.headers });
      const seen = list.json<AccessRequestList>().items.find((r) => r.id === request.id) as AccessRequest;
      expect(seen.status).toBe('approved');
      expect(seen.consultantKeyFingerprint).toBe(rotated.fingerprint);

      const download = await downloadRaw(t.app, con, request.id, con.password);
      expect(download.statusCode, download.body.slice(0, 200)).toBe(200);
      expect(Buffer.compare(download.rawPayload, data)).toBe(0);
    });

    it('rejects other key sizes, unknown fields and a missing password', async () => {
      const session = await newUser(t.app, 'consultant');
      expectValidation(await rotate(session, { password: session.password, keySize: 1024 }), 'body.keySize');
      expectValidation(await rotate(session, { password: session.password, extra: true }), 'body.extra');
      expectValidation(await rotate(session, {}), 'body.password');
    });

    it('is 401 UNAUTHORIZED without a token', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', payload: { password: 'whatever password' } });
      expectProblem(response, 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /users/me/password', () => {
    it('answers 204 and re-encrypts the private key under the new password', async () => {
      const { con, request, data } = await grantedPair(t.app);
      const before = (await myKeys(con)).json<MyKeysResponse>();
      const newPassword = 'the new and longer password';
      const response = await changePassword(con, { currentPassword: con.password, newPassword });
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');

      const fresh = await loginRaw(t.app, con.username, newPassword);
      expect(fresh.statusCode).toBe(200);
      const session: Session = { ...con, password: newPassword, headers: { authorization: `Bearer ${fresh.json<{ accessToken: string }>().accessToken}` } };
      // Same key pair, now unlocked by the new password only.
      expect((await myKeys(session)).json<MyKeysResponse>().fingerprint).toBe(before.fingerprint);
      expectProblem(await downloadRaw(t.app, session, request.id, con.password), 401, 'WRONG_PASSWORD');
      const download = await downloadRaw(t.app, session, request.id, newPassword);
      expect(download.statusCode, download.body.slice(0, 200)).toBe(200);
      expect(Buffer.compare(download.rawPayload, data)).toBe(0);
    });

    it('with a wrong current password: 401 and the old password still works', async () => {
      const session = await newUser(t.app, 'organization');
      const response = await changePassword(session, { currentPassword: 'not the current one', newPassword: 'another long password' });
      expectProblem(response, 401);
      expect((await loginRaw(t.app, session.username, session.password)).statusCode).toBe(200);
    });

    it('validates the new password policy and unknown fields', async () => {
      const session = await newUser(t.app, 'organization');
      expectValidation(await changePassword(session, { currentPassword: session.password, newPassword: 'short' }), 'body.newPassword');
      expectValidation(
        await changePassword(session, { currentPassword: session.password, newPassword: 'long enough password', x: 1 }),
        'body.x',
      );
      expectValidation(await changePassword(session, { newPassword: 'long enough password' }), 'body.currentPassword');
      expect((await loginRaw(t.app, session.username, session.password)).statusCode).toBe(200);
    });
  });

  describe('GET /users/{id}/public-key', () => {
    it("answers another user's { publicKeyPem, fingerprint, algorithm }", async () => {
      const org = await newUser(t.app, 'organization');
      const con = await newUser(t.app, 'consultant');
      const response = await t.app.inject({ method: 'GET', url: `/api/v1/users/${con.id}/public-key`, headers: org.headers });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<PublicKeyResponse>();
      const own = (await myKeys(con)).json<MyKeysResponse>();
      expect(body.publicKeyPem).toBe(own.publicKeyPem);
      expect(body.fingerprint).toBe(own.fingerprint);
      expect(body.algorithm).toBe('RSA-2048');
      expect(response.body).not.toMatch(/PRIVATE/);
    });

    it('is 404 NOT_FOUND for an unknown id, 400 for a malformed one, 401 without a token', async () => {
      const session = await newUser(t.app, 'consultant');
      expectProblem(
        await t.app.inject({ method: 'GET', url: '/api/v1/users/00000000-0000-4000-8000-000000000000/public-key', headers: session.headers }),
        404,
        'NOT_FOUND',
      );
      expectValidation(
        await t.app.inject({ method: 'GET', url: '/api/v1/users/bad.id!/public-key', headers: session.headers }),
        'params.id',
      );
      expectProblem(await t.app.inject({ method: 'GET', url: `/api/v1/users/${session.id}/public-key` }), 401, 'UNAUTHORIZED');
    });
  });
});

describe('own keys with the production work factors', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The defaults loadConfig gives a real deployment; buildTestApp lowers them otherwise.
    const dataDir = await makeDataDir();
    const { kdf } = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
    t = await buildTestApp({ dataDir, config: { kdf } });
  });
  afterAll(async () => t.cleanup());

  it('protects a new private key with at least 600,000 PBKDF2 iterations and still signs in', async () => {
    const session = await newUser(t.app, 'consultant');
    const keys = (await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: session.headers })).json<MyKeysResponse>();
    expect(keys.privateKey?.kdf).toMatch(/pbkdf2/i);
    expect(keys.privateKey?.iterations).toBeGreaterThanOrEqual(600_000);
  });
});
