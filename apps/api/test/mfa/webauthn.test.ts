import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { expectProblem, newUser, PASSWORD } from '../helpers/fixtures.ts';
import { mfaRaw, mfaTokenOf, sessionFrom, SoftAuthenticator } from '../helpers/mfa.ts';

/** Passkeys against a software authenticator (ES256, attestation "none", real signatures). */
describe('passkeys over HTTP', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  beforeAll(async () => {
    t = await buildTestApp();
    prisma = openDb(t);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  const registrationOptions = async (session: Session) => {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn/options', headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ challenge: string; rp: { id: string }; user: { name: string }; excludeCredentials: Array<{ id: string }> }>();
  };

  async function register(session: Session, authenticator = new SoftAuthenticator(), name?: string) {
    const options = await registrationOptions(session);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/mfa/webauthn',
      headers: session.headers,
      payload: { response: authenticator.register(options), ...(name ? { name } : {}) },
    });
    return { authenticator, response, options };
  }

  async function signInWith(username: string, authenticator: SoftAuthenticator) {
    const { mfaToken, methods } = await mfaTokenOf(t.app, username, PASSWORD);
    const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/webauthn/options', payload: { mfaToken } });
    expect(options.statusCode, options.body).toBe(200);
    const assertion = authenticator.assert(options.json<{ challenge: string }>());
    return { mfaToken, methods, options: options.json<{ challenge: string; rpId: string; allowCredentials: Array<{ id: string }> }>(), assertion, answer: await mfaRaw(t.app, { mfaToken, webauthn: assertion }) };
  }

  it('registers a passkey, lists it, and signs in with it', async () => {
    const user = await newUser(t.app, 'consultant');
    const { authenticator, response, options } = await register(user, new SoftAuthenticator(), 'Laptop');
    expect(options.rp.id).toBe('localhost');
    expect(options.user.name).toBe(user.username);
    expect(response.statusCode, response.body).toBe(201);
    const passkey = response.json<{ id: string; name: string; createdAt: string }>();
    expect(passkey).toEqual({ id: expect.any(String), name: 'Laptop', createdAt: expect.any(String) });
    const status = (await t.app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers: user.headers })).json();
    expect(status).toMatchObject({ totp: false, webauthn: [passkey], recoveryCodesLeft: 0 });

    const signIn = await signInWith(user.username, authenticator);
    expect(signIn.methods).toEqual(['webauthn']);
    expect(signIn.options.rpId).toBe('localhost');
    expect(signIn.options.allowCredentials.map((c) => c.id)).toEqual([authenticator.id]);
    expect(signIn.answer.statusCode, signIn.answer.body).toBe(200);
    expect(signIn.answer.json()).toMatchObject({ tokenType: 'Bearer', user: { id: user.id } });
    // The same assertion again (a replay) is refused, and so is the used mfaToken.
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/webauthn/options', payload: { mfaToken } });
    expectProblem(await mfaRaw(t.app, { mfaToken, webauthn: signIn.assertion }), 401, 'INVALID_MFA_CODE');
    expectProblem(await mfaRaw(t.app, { mfaToken: signIn.mfaToken, webauthn: authenticator.assert(signIn.options) }), 401, 'INVALID_MFA_CODE');
    const verified = await auditOf(prisma, 'mfa_verified');
    expect(verified.some((r) => r.userId === user.id && r.details.method === 'webauthn')).toBe(true);
    const enrolled = await auditOf(prisma, 'mfa_enrolled');
    expect(enrolled.some((r) => r.userId === user.id && r.details.method === 'webauthn')).toBe(true);
  });

  it('refuses a registration without options, a replayed one and a wrong origin', async () => {
    const user = await newUser(t.app, 'consultant');
    const authenticator = new SoftAuthenticator();
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn', headers: user.headers, payload: { response: authenticator.register({ challenge: 'bm90LWEtY2hhbGxlbmdl' }) } }),
      409,
      'CONFLICT',
    );
    const options = await registrationOptions(user);
    const elsewhere = new SoftAuthenticator('https://evil.example.com');
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn', headers: user.headers, payload: { response: elsewhere.register(options) } }), 401, 'INVALID_MFA_CODE');
    const again = await registrationOptions(user);
    const body = { response: authenticator.register(again) };
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn', headers: user.headers, payload: body })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn', headers: user.headers, payload: body })).statusCode).not.toBe(201);
    // Unknown fields are refused, not dropped.
    const third = await registrationOptions(user);
    expect(third.excludeCredentials.map((c) => c.id)).toEqual([authenticator.id]);
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/webauthn', headers: user.headers, payload: { response: { ...new SoftAuthenticator().register(third), extra: 1 } } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it("one user's passkey does not sign in another; a wrong signature counts toward the lockout", async () => {
    const alice = await newUser(t.app, 'consultant');
    const bob = await newUser(t.app, 'consultant');
    const { authenticator: aliceKey } = await register(alice);
    await register(bob);
    const { mfaToken } = await mfaTokenOf(t.app, bob.username, PASSWORD);
    const options = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/webauthn/options', payload: { mfaToken } })).json<{ challenge: string }>();
    expectProblem(await mfaRaw(t.app, { mfaToken, webauthn: aliceKey.assert(options) }), 401, 'INVALID_MFA_CODE');
    const forged = new SoftAuthenticator();
    Object.defineProperty(forged, 'credentialId', { value: (await prisma.webAuthnCredential.findFirstOrThrow({ where: { userId: bob.id } })).credentialId });
    expectProblem(await mfaRaw(t.app, { mfaToken, webauthn: { ...forged.assert(options), id: forged.credentialId, rawId: forged.credentialId } }), 401, 'INVALID_MFA_CODE');
    expect((await prisma.user.findUniqueOrThrow({ where: { id: bob.id } })).failedLoginCount).toBe(2);
    // An assertion for another origin is refused too.
    const { authenticator: bobKey } = await register(bob);
    const next = await mfaTokenOf(t.app, bob.username, PASSWORD);
    const nextOptions = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/webauthn/options', payload: { mfaToken: next.mfaToken } })).json<{ challenge: string }>();
    expectProblem(await mfaRaw(t.app, { mfaToken: next.mfaToken, webauthn: bobKey.assert(nextOptions, { origin: 'https://evil.example.com' }) }), 401, 'INVALID_MFA_CODE');
    const failed = await auditOf(prisma, 'mfa_failed');
    expect(failed.filter((r) => r.userId === bob.id && r.details.method === 'webauthn').length).toBeGreaterThanOrEqual(3);
  });

  it('removes a passkey with the password, only your own', async () => {
    const owner = await newUser(t.app, 'consultant');
    const stranger = await newUser(t.app, 'consultant');
    const { response } = await register(owner);
    const { id } = response.json<{ id: string }>();
    const signedIn = await signInWith(owner.username, (await register(owner)).authenticator);
    const session = sessionFrom(signedIn.answer.json(), PASSWORD);
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/v1/users/me/mfa/webauthn/${id}`, headers: stranger.headers, payload: { password: PASSWORD } }), 404, 'NOT_FOUND');
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/v1/users/me/mfa/webauthn/${id}`, headers: session.headers, payload: { password: 'nope' } }), 401, 'WRONG_PASSWORD');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/users/me/mfa/webauthn/${id}`, headers: session.headers, payload: { password: PASSWORD } })).statusCode).toBe(204);
    expect(await prisma.webAuthnCredential.count({ where: { userId: owner.id } })).toBe(1);
  });

  it('admin reset removes passkeys too', async () => {
    const admin = await newAdmin(t, prisma);
    const user = await newUser(t.app, 'organization');
    await register(user);
    const reset = await adminCall(t.app, admin, 'POST', `/users/${user.id}/mfa-reset`, {});
    expect(reset.json()).toMatchObject({ totpRemoved: false, passkeysRemoved: 1 });
    expect(await prisma.webAuthnCredential.count({ where: { userId: user.id } })).toBe(0);
  });
});
