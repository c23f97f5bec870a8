import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminUser, AdminUserList } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { bearer, downloadRaw, expectProblem, grantedPair, loginRaw, newUser, refreshRaw, PASSWORD } from '../helpers/fixtures.ts';

describe('admin accounts and incident response', () => {
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

  it('lists users with the admin fields, filtered and paged', async () => {
    const { org, con } = await grantedPair(t.app);
    const all = (await adminCall(t.app, admin, 'GET', '/users?limit=200')).json<AdminUserList>();
    const row = all.items.find((u) => u.id === con.id);
    expect(row).toMatchObject({ role: 'consultant', status: 'active', hasPrivateKey: true, activeGrants: 1, failedLogins: 0, lockedUntil: null });
    expect(row?.lastLoginAt).toEqual(expect.any(String));
    expect(all.items.find((u) => u.id === org.id)?.activeGrants).toBe(1);

    const byName = (await adminCall(t.app, admin, 'GET', `/users?q=${encodeURIComponent(con.username)}`)).json<AdminUserList>();
    expect(byName.items.map((u) => u.id)).toEqual([con.id]);
    const orgs = (await adminCall(t.app, admin, 'GET', '/users?role=organization&limit=200')).json<AdminUserList>();
    expect(orgs.items.every((u) => u.role === 'organization')).toBe(true);

    const first = (await adminCall(t.app, admin, 'GET', '/users?limit=1')).json<AdminUserList>();
    expect(first.nextCursor).not.toBeNull();
    const second = (await adminCall(t.app, admin, 'GET', `/users?limit=1&cursor=${first.nextCursor}`)).json<AdminUserList>();
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    expectProblem(await adminCall(t.app, admin, 'GET', '/users?unknown=1'), 400, 'VALIDATION_FAILED');
  });

  it('searches usernames literally: _ and % are not wildcards', async () => {
    const tag = Date.now().toString(36);
    const underscored = await newUser(t.app, 'consultant', { username: `lit_${tag}` });
    await newUser(t.app, 'consultant', { username: `litx${tag}` });
    const search = async (q: string) => (await adminCall(t.app, admin, 'GET', `/users?q=${encodeURIComponent(q)}`)).json<AdminUserList>().items.map((u) => u.id);
    expect(await search(`lit_${tag}`)).toEqual([underscored.id]);
    expect(await search('%')).toEqual([]);
  });

  it('disable ends every session at once and login answers ACCOUNT_DISABLED; enable lets the user back in', async () => {
    const user = await newUser(t.app, 'organization');
    const disabled = await adminCall(t.app, admin, 'POST', `/users/${user.id}/disable`);
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json<AdminUser>().status).toBe('disabled');

    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers }), 401);
    expectProblem(await refreshRaw(t.app, user.refreshToken), 401);
    expectProblem(await loginRaw(t.app, user.username, PASSWORD), 403, 'ACCOUNT_DISABLED');

    const enabled = await adminCall(t.app, admin, 'POST', `/users/${user.id}/enable`);
    expect(enabled.json<AdminUser>().status).toBe('active');
    expect((await loginRaw(t.app, user.username, PASSWORD)).statusCode).toBe(200);

    const [disableRecord] = (await auditOf(prisma, 'account_disabled')).filter((r) => r.details.targetUserId === user.id);
    expect(disableRecord).toMatchObject({ userId: admin.id, success: true });
    expect((await auditOf(prisma, 'account_enabled')).some((r) => r.details.targetUserId === user.id && r.userId === admin.id)).toBe(true);
  });

  it('an admin cannot disable their own account', async () => {
    expectProblem(await adminCall(t.app, admin, 'POST', `/users/${admin.id}/disable`), 409, 'CONFLICT');
    expectProblem(await adminCall(t.app, admin, 'POST', '/users/00000000-0000-4000-8000-000000000000/disable'), 404, 'NOT_FOUND');
  });

  it('revoke-grants closes every grant of the user', async () => {
    const { con, request } = await grantedPair(t.app);
    const response = await adminCall(t.app, admin, 'POST', `/users/${con.id}/revoke-grants`);
    expect(response.json()).toEqual({ grantsRevoked: 1 });
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 403, 'ACCESS_NOT_APPROVED');
  });

  it('deleting a private key revokes its grants for good', async () => {
    const { con, request } = await grantedPair(t.app);
    const response = await adminCall(t.app, admin, 'DELETE', `/users/${con.id}/private-key`);
    expect(response.json()).toEqual({ privateKeyDeleted: true });
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 403, 'ACCESS_NOT_APPROVED');
    const row = (await adminCall(t.app, admin, 'GET', `/users?q=${con.username}`)).json<AdminUserList>().items[0];
    expect(row).toMatchObject({ hasPrivateKey: false, activeGrants: 0 });
  });

  it('incident: the token stops at once, grants cannot be downloaded, the key is gone, the audit shows each step', async () => {
    const { con, request } = await grantedPair(t.app);
    // A second session of the same consultant: it must end too.
    const other = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.99.0.1', payload: { username: con.username, password: PASSWORD } });
    const second = other.json<{ accessToken: string; refreshToken: string }>();

    const response = await adminCall(t.app, admin, 'POST', `/users/${con.id}/incident`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ disabled: true, grantsRevoked: 1, privateKeyDeleted: true, sessionsEnded: 2 });

    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: con.headers }), 401);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(second.accessToken) }), 401);
    expectProblem(await refreshRaw(t.app, second.refreshToken), 401);
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 401);
    expectProblem(await loginRaw(t.app, con.username, PASSWORD), 403, 'ACCOUNT_DISABLED');
    const state = await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
    expect(state).toMatchObject({ status: 'revoked', wrappedSymmetricKey: null });
    const row = (await adminCall(t.app, admin, 'GET', `/users?q=${con.username}`)).json<AdminUserList>().items[0];
    expect(row).toMatchObject({ status: 'disabled', hasPrivateKey: false, activeGrants: 0 });

    const steps = ['account_disabled', 'access_revoked', 'private_key_deleted'];
    for (const operation of steps) {
      const records = (await auditOf(prisma, operation)).filter((r) => r.details.targetUserId === con.id);
      expect(records, operation).toHaveLength(1);
      expect(records[0]).toMatchObject({ userId: admin.id, success: true });
      expect(records[0]?.details.purpose ?? 'incident').toBe('incident');
    }
    const listed = (await adminCall(t.app, admin, 'GET', `/audit?userId=${admin.id}&limit=200`)).json<{ items: Array<{ operation: string; details: Record<string, unknown> }> }>();
    const forTarget = listed.items.filter((i) => i.details.targetUserId === con.id).map((i) => i.operation).reverse();
    expect(forTarget).toEqual(steps);
  });
});
