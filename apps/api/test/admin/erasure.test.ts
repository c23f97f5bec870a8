import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErasureCertificate } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { downloadRaw, expectProblem, grantedPair, loginRaw, PASSWORD } from '../helpers/fixtures.ts';

/** What a third party does with the certificate and the published key alone: no SFE code involved. */
function verifyOffline(certificate: ErasureCertificate, publicKeyPem: string): boolean {
  const message = JSON.stringify([
    'sfe-erasure-v1',
    certificate.userId,
    certificate.erasedAt,
    certificate.privateKeyDestroyed,
    certificate.filesShredded,
    certificate.grantsRevoked,
    certificate.keyId,
  ]);
  return verify(null, Buffer.from(message), createPublicKey(publicKeyPem), Buffer.from(certificate.signature, 'base64'));
}

describe('right to erasure', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;

  beforeAll(async () => {
    t = await buildTestApp();
    prisma = openDb(t);
    admin = await newAdmin(t, prisma);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('erases an organization: files shredded, grants revoked, key destroyed, personal fields gone, certificate verifies offline', async () => {
    const { org, con, file, request } = await grantedPair(t.app);
    const response = await adminCall(t.app, admin, 'DELETE', `/users/${org.id}`);
    expect(response.statusCode, response.body).toBe(200);
    const certificate = response.json<ErasureCertificate>();
    expect(certificate).toMatchObject({ userId: org.id, privateKeyDestroyed: true, filesShredded: 1, grantsRevoked: 1, algorithm: 'Ed25519' });
    expect(certificate.pseudonym).toMatch(/^erased-[0-9a-f]{16}$/);

    const { publicKeyPem, keyId } = (await t.app.inject({ method: 'GET', url: '/api/v1/audit/public-key' })).json<{ publicKeyPem: string; keyId: string }>();
    expect(certificate.keyId).toBe(keyId);
    expect(verifyOffline(certificate, publicKeyPem)).toBe(true);
    expect(verifyOffline({ ...certificate, filesShredded: 0 }, publicKeyPem)).toBe(false);

    const row = await prisma.user.findUniqueOrThrow({ where: { id: org.id } });
    expect(row).toMatchObject({ username: certificate.pseudonym, passwordHash: '', publicKeyPem: null, publicKeyFingerprint: null, status: 'erased' });
    expect(await prisma.user.count({ where: { username: org.username } })).toBe(0);
    const stored = await prisma.encryptedFile.findUniqueOrThrow({ where: { id: file.id } });
    expect(stored.wrappedKey).toBeNull();
    expect(stored.deletedAt).not.toBeNull();
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 403, 'ACCESS_NOT_APPROVED');
    expectProblem(await loginRaw(t.app, org.username, PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectProblem(await loginRaw(t.app, certificate.pseudonym, PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: org.headers }), 401);

    // The audit trail keeps the (pseudonymous) id, never the name.
    const [erased] = (await auditOf(prisma, 'user_erased')).filter((r) => r.details.targetUserId === org.id);
    expect(erased).toMatchObject({ userId: admin.id, success: true });
    const everything = await prisma.cryptoLog.findMany();
    expect(everything.some((r) => r.details.includes(org.username))).toBe(false);
    expect(everything.some((r) => r.userId === org.id)).toBe(true);

    expectProblem(await adminCall(t.app, admin, 'DELETE', `/users/${org.id}`), 409, 'CONFLICT');
    expectProblem(await adminCall(t.app, admin, 'POST', `/users/${org.id}/enable`), 409, 'CONFLICT');
    const verified = (await adminCall(t.app, admin, 'GET', '/audit/verify')).json();
    expect(verified).toMatchObject({ ok: true });
  });

  it('erases a consultant: its key is destroyed and its grants revoked', async () => {
    const { con } = await grantedPair(t.app);
    const certificate = (await adminCall(t.app, admin, 'DELETE', `/users/${con.id}`)).json<ErasureCertificate>();
    expect(certificate).toMatchObject({ userId: con.id, privateKeyDestroyed: true, filesShredded: 0, grantsRevoked: 1 });
  });
});
