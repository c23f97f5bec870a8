import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import type { AdminUserList } from '@sfe/contract';
import { buildFailingAuditApp, type FailingAuditApp } from '../helpers/failing-audit.ts';
import { adminCall, auditOf, newAdmin } from '../helpers/admin.ts';
import type { Session, TestApp } from '../helpers/app.ts';
import { actOnRequest, downloadRaw, expectProblem, grantedPair, loginRaw, newUser, requestAccess, uploadFile, PASSWORD } from '../helpers/fixtures.ts';

/**
 * Decisions and account actions change state without releasing anything; they fail
 * closed too: when their record cannot be written they answer 503 and change nothing.
 * Refused attempts are on record as failures.
 */
describe('fail-closed audit of decisions and account actions', () => {
  let f: FailingAuditApp;
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;

  beforeAll(async () => {
    f = await buildFailingAuditApp();
    ({ t, prisma } = f);
    admin = await newAdmin(t, prisma);
  });
  afterAll(() => f.close());

  const requestRow = (id: string) => prisma.accessRequest.findUniqueOrThrow({ where: { id } });

  it('deny: 503 and the request stays pending', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const file = await uploadFile(t.app, org, { data: Buffer.from('deny me') });
    const pending = await requestAccess(t.app, con, file.id);
    const response = await f.withFailing(['access_denied'], () => actOnRequest(t.app, org, pending.id, 'deny', { reason: 'no' }));
    expectProblem(response, 503, 'AUDIT_UNAVAILABLE');
    expect(await requestRow(pending.id)).toMatchObject({ status: 'pending' });
    expect((await actOnRequest(t.app, org, pending.id, 'deny', {})).statusCode).toBe(200);
  });

  it('revoke: 503, the grant stays approved and still downloads', async () => {
    const { org, con, request, data } = await grantedPair(t.app);
    const response = await f.withFailing(['access_revoked'], () => actOnRequest(t.app, org, request.id, 'revoke'));
    expectProblem(response, 503, 'AUDIT_UNAVAILABLE');
    expect((await requestRow(request.id)).wrappedSymmetricKey).not.toBeNull();
    expect((await downloadRaw(t.app, con, request.id, PASSWORD)).rawPayload.equals(data)).toBe(true);
  });

  it('file delete: 503 and the file stays, blob and key', async () => {
    const org = await newUser(t.app, 'organization');
    const file = await uploadFile(t.app, org, { data: Buffer.from('keep me') });
    const response = await f.withFailing(['file_deleted'], () => t.app.inject({ method: 'DELETE', url: `/api/v1/files/${file.id}`, headers: org.headers }));
    expectProblem(response, 503, 'AUDIT_UNAVAILABLE');
    const content = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: org.headers });
    expect(content.rawPayload.toString()).toBe('keep me');
  });

  it('disable, incident, key delete, erase: 503 and the account is untouched', async () => {
    const { con, request, data } = await grantedPair(t.app);
    const cases: Array<[string, 'POST' | 'DELETE', string]> = [
      ['account_disabled', 'POST', `/users/${con.id}/disable`],
      ['account_disabled', 'POST', `/users/${con.id}/incident`],
      ['access_revoked', 'POST', `/users/${con.id}/revoke-grants`],
      ['private_key_deleted', 'DELETE', `/users/${con.id}/private-key`],
      ['user_erased', 'DELETE', `/users/${con.id}`],
    ];
    for (const [operation, method, url] of cases) {
      const response = await f.withFailing([operation], () => adminCall(t.app, admin, method, url));
      expectProblem(response, 503, 'AUDIT_UNAVAILABLE');
    }
    const user = await prisma.user.findUniqueOrThrow({ where: { id: con.id } });
    expect(user).toMatchObject({ status: 'active', username: con.username });
    const listed = (await adminCall(t.app, admin, 'GET', `/users?q=${con.username}`)).json<AdminUserList>().items[0];
    expect(listed).toMatchObject({ status: 'active', hasPrivateKey: true, activeGrants: 1 });
    expect((await requestRow(request.id)).status).toBe('approved');
    expect((await downloadRaw(t.app, con, request.id, PASSWORD)).rawPayload.equals(data)).toBe(true);
  });

  it('enable: 503 and the account stays disabled', async () => {
    const user = await newUser(t.app, 'consultant');
    expect((await adminCall(t.app, admin, 'POST', `/users/${user.id}/disable`)).statusCode).toBe(200);
    expectProblem(await f.withFailing(['account_enabled'], () => adminCall(t.app, admin, 'POST', `/users/${user.id}/enable`)), 503, 'AUDIT_UNAVAILABLE');
    expectProblem(await loginRaw(t.app, user.username, PASSWORD), 403, 'ACCOUNT_DISABLED');
  });

  it('records refused decisions and account actions as failures', async () => {
    const { con, request } = await grantedPair(t.app);
    const stranger = await newUser(t.app, 'organization');
    expectProblem(await actOnRequest(t.app, con, request.id, 'deny', {}), 403);
    expectProblem(await actOnRequest(t.app, stranger, request.id, 'revoke'), 404);
    expectProblem(await actOnRequest(t.app, stranger, request.id, 'deny', {}), 404);
    expectProblem(await adminCall(t.app, admin, 'POST', `/users/${admin.id}/disable`), 409);
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${request.fileId}`, headers: stranger.headers }), 404);

    const failures = async (operation: string) => (await auditOf(prisma, operation)).filter((r) => !r.success);
    expect((await failures('access_denied')).filter((r) => r.details.requestId === request.id).map((r) => r.details.refused)).toEqual(['FORBIDDEN', 'NOT_FOUND']);
    expect((await failures('access_revoked')).filter((r) => r.details.requestId === request.id && r.userId === stranger.id)).toHaveLength(1);
    expect((await failures('account_disabled')).filter((r) => r.details.targetUserId === admin.id)).toMatchObject([{ userId: admin.id, details: { refused: 'CONFLICT' } }]);
    expect((await failures('file_deleted')).filter((r) => r.details.fileId === request.fileId)).toMatchObject([{ userId: stranger.id }]);
  });

  it('records a failed RSA wrap on approve; the request stays pending', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const file = await uploadFile(t.app, org, { data: Buffer.from('wrap me') });
    const pending = await requestAccess(t.app, con, file.id);
    const { publicKeyPem } = await prisma.user.findUniqueOrThrow({ where: { id: con.id } });
    await prisma.user.update({ where: { id: con.id }, data: { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n' } });
    try {
      expectProblem(await actOnRequest(t.app, org, pending.id, 'approve', {}), 500, 'INTERNAL_ERROR');
    } finally {
      await prisma.user.update({ where: { id: con.id }, data: { publicKeyPem } });
    }
    expect(await requestRow(pending.id)).toMatchObject({ status: 'pending', wrappedSymmetricKey: null });
    const failed = (await auditOf(prisma, 'key_wrapped')).filter((r) => !r.success && r.details.requestId === pending.id);
    expect(failed).toMatchObject([{ userId: org.id, details: { fileId: file.id } }]);
  });
});
