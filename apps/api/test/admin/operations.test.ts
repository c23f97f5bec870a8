import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { AUDIT_OPERATIONS } from '../../src/modules/audit/audit.operations.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { adminCall, newAdmin, openDb } from '../helpers/admin.ts';
import { enrolTotp, mfaRaw, mfaTokenOf } from '../helpers/mfa.ts';
import { actOnRequest, downloadRaw, grantedPair, loginRaw, newUser, refreshRaw, requestAccess, uploadFile, PASSWORD } from '../helpers/fixtures.ts';

/** Emitted by the key-rotation and backup work, tested with it. */
const ELSEWHERE = new Set(['kek_rotated', 'dek_rewrapped', 'backup_created', 'backup_restored']);

/**
 * Every operation name we declare is emitted by some flow: runs each flow once over HTTP
 * and fails naming any operation nothing recorded (a name without an emitter is a gap
 * in the audit, not just dead code).
 */
describe('audit operation coverage', () => {
  let t: TestApp;
  let prisma: PrismaClient;

  beforeAll(async () => {
    t = await buildTestApp({ env: { ALERT_UNUSUAL_ACCESS_MIN_EVENTS: '2', ALERT_UNUSUAL_ACCESS_FACTOR: '2' } });
    prisma = openDb(t);
    const admin = await newAdmin(t, prisma);
    const { org, con, file, request } = await grantedPair(t.app);
    await downloadRaw(t.app, con, request.id, 'a wrong password');
    await downloadRaw(t.app, con, request.id, PASSWORD);
    await downloadRaw(t.app, con, request.id, PASSWORD); // unusual_access: suspended
    const second = await requestAccess(t.app, con, (await uploadFile(t.app, org, { data: Buffer.from('two') })).id);
    await actOnRequest(t.app, org, second.id, 'deny', {});
    await actOnRequest(t.app, org, request.id, 'revoke');
    await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: PASSWORD } });
    await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${file.id}`, headers: org.headers });
    const victim = await newUser(t.app, 'consultant');
    for (let i = 0; i < 10; i++) await loginRaw(t.app, victim.username, `wrong password ${i}`);
    await refreshRaw(t.app, con.refreshToken);
    await refreshRaw(t.app, con.refreshToken);
    const other = await newUser(t.app, 'organization');
    await adminCall(t.app, admin, 'POST', `/users/${other.id}/disable`);
    await adminCall(t.app, admin, 'POST', `/users/${other.id}/enable`);
    await adminCall(t.app, admin, 'POST', `/users/${other.id}/incident`);
    await adminCall(t.app, admin, 'DELETE', `/users/${other.id}`);
    await adminCall(t.app, admin, 'POST', '/audit/purge', {});
    await adminCall(t.app, admin, 'GET', '/audit/verify');
    // Second factors: enrolled, a wrong code, a recovery code, an admin reset.
    const mfaUser = await newUser(t.app, 'consultant');
    const { recoveryCodes } = await enrolTotp(t.app, mfaUser);
    const { mfaToken } = await mfaTokenOf(t.app, mfaUser.username, PASSWORD);
    await mfaRaw(t.app, { mfaToken, recoveryCode: 'AAAA-BBBB-CCCC-DDDD' });
    await mfaRaw(t.app, { mfaToken, recoveryCode: recoveryCodes[0]! });
    await adminCall(t.app, admin, 'POST', `/users/${mfaUser.id}/mfa-reset`, {});
    await t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', headers: org.headers, payload: { currentPassword: PASSWORD, newPassword: 'a brand new password' } });
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('emits every declared operation somewhere', async () => {
    const seen = new Set((await prisma.cryptoLog.findMany({ select: { operation: true } })).map((r) => r.operation));
    const never = AUDIT_OPERATIONS.filter((op) => !ELSEWHERE.has(op) && !seen.has(op));
    expect(never).toEqual([]);
  });

  it('records only declared names', async () => {
    const declared = new Set<string>(AUDIT_OPERATIONS);
    const rows = await prisma.cryptoLog.findMany({ select: { operation: true }, distinct: ['operation'] });
    expect(rows.map((r) => r.operation).filter((op) => !declared.has(op))).toEqual([]);
  });
});
