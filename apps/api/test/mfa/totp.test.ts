import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { loadConfig } from '../../src/config.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { sfe as runSfe } from '../helpers/cli.ts';
import { bearer, expectProblem, loginRaw, newUser, PASSWORD } from '../helpers/fixtures.ts';
import { awayFromStepEdge, enrolTotp, mfaRaw, mfaTokenOf, sessionFrom, totpAt } from '../helpers/mfa.ts';

describe('TOTP second factor over HTTP', () => {
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

  const status = async (session: Session) =>
    (await t.app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers: session.headers })).json<{ totp: boolean; recoveryCodesLeft: number; webauthn: unknown[] }>();

  it('enrols: pending until a right code confirms it, then 10 recovery codes once', async () => {
    const user = await newUser(t.app, 'consultant');
    const started = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers: user.headers });
    expect(started.statusCode).toBe(200);
    const { secret, otpauthUrl } = started.json<{ secret: string; otpauthUrl: string }>();
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    expect(otpauthUrl).toContain(`secret=${secret}`);
    expect(started.headers['cache-control']).toBe('no-store');
    expect(await status(user)).toMatchObject({ totp: false, recoveryCodesLeft: 0 });
    // Pending: the password alone still signs in.
    expect((await loginRaw(t.app, user.username, PASSWORD)).json()).toHaveProperty('accessToken');

    const step = await awayFromStepEdge();
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: totpAt(secret, step + 5) } }), 401, 'INVALID_MFA_CODE');
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: '12345' } }), 400, 'VALIDATION_FAILED');
    const confirmed = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: totpAt(secret, step) } });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const { recoveryCodes } = confirmed.json<{ recoveryCodes: string[] }>();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await status(user)).toMatchObject({ totp: true, recoveryCodesLeft: 10 });
    // A confirmed factor is not silently replaced, and is not confirmed twice.
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers: user.headers }), 409, 'CONFLICT');
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: totpAt(secret, step) } }), 409, 'CONFLICT');
    // Only hashes of the recovery codes are stored.
    const stored = await prisma.recoveryCode.findMany({ where: { userId: user.id } });
    expect(stored.map((r) => r.codeHash).some((h) => recoveryCodes.some((c) => h.includes(c) || c.includes(h)))).toBe(false);
    const enrolled = await auditOf(prisma, 'mfa_enrolled');
    expect(enrolled.some((r) => r.userId === user.id && r.success && r.details.method === 'totp')).toBe(true);
  });

  it('signs in with a code: login answers mfaRequired, each code works once, skew of one step only', async () => {
    const user = await newUser(t.app, 'organization');
    const { secret } = await enrolTotp(t.app, user);
    const first = await mfaTokenOf(t.app, user.username, PASSWORD);
    expect(first.methods).toEqual(['totp', 'recovery_code']);
    const step = await awayFromStepEdge();
    // The step the confirmation used is spent: a replay of it is refused.
    const replayOfConfirm = await mfaRaw(t.app, { mfaToken: first.mfaToken, code: totpAt(secret, step) });
    // (enrolTotp confirmed with a code of this same step unless the step moved on meanwhile)
    if (replayOfConfirm.statusCode === 200) throw new Error('the step used to confirm was accepted again');
    expectProblem(replayOfConfirm, 401, 'INVALID_MFA_CODE');

    const plusOne = await mfaRaw(t.app, { mfaToken: first.mfaToken, code: totpAt(secret, step + 1) });
    expect(plusOne.statusCode, plusOne.body).toBe(200);
    const session = sessionFrom(plusOne.json(), PASSWORD);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: session.headers })).statusCode).toBe(200);
    // The mfaToken is single use, even with a new right code.
    expectProblem(await mfaRaw(t.app, { mfaToken: first.mfaToken, code: totpAt(secret, step + 2) }), 401, 'INVALID_MFA_CODE');

    const second = await mfaTokenOf(t.app, user.username, PASSWORD);
    expectProblem(await mfaRaw(t.app, { mfaToken: second.mfaToken, code: totpAt(secret, step + 1) }), 401, 'INVALID_MFA_CODE'); // replayed
    expectProblem(await mfaRaw(t.app, { mfaToken: second.mfaToken, code: totpAt(secret, step + 2) }), 401, 'INVALID_MFA_CODE'); // +2 steps
    expectProblem(await mfaRaw(t.app, { mfaToken: second.mfaToken, code: totpAt(secret, step - 2) }), 401, 'INVALID_MFA_CODE'); // -2 steps
    // Exactly one factor per call.
    expectProblem(await mfaRaw(t.app, { mfaToken: second.mfaToken }), 400, 'VALIDATION_FAILED');
    expectProblem(await mfaRaw(t.app, { mfaToken: second.mfaToken, code: '000000', recoveryCode: 'AAAA-BBBB-CCCC-DDDD' }), 400, 'VALIDATION_FAILED');
    const failed = await auditOf(prisma, 'mfa_failed');
    expect(failed.filter((r) => r.userId === user.id && !r.success).length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(failed)).not.toContain(second.mfaToken);
  });

  it('accepts a code one step behind (a slow phone clock)', async () => {
    const user = await newUser(t.app, 'consultant');
    const started = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers: user.headers });
    const { secret } = started.json<{ secret: string }>();
    const step = await awayFromStepEdge();
    const confirmed = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: totpAt(secret, step - 2) } });
    expectProblem(confirmed, 401, 'INVALID_MFA_CODE');
    const behind = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: user.headers, payload: { code: totpAt(secret, step - 1) } });
    expect(behind.statusCode, behind.body).toBe(200);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const now = await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step) });
    expect(now.statusCode, now.body).toBe(200);
  });

  it('the mfaToken is no access token, and an access token is no mfaToken', async () => {
    const user = await newUser(t.app, 'consultant');
    await enrolTotp(t.app, user);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(mfaToken) }), 401, 'UNAUTHORIZED');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers: bearer(mfaToken) }), 401, 'UNAUTHORIZED');
    expectProblem(await mfaRaw(t.app, { mfaToken: user.accessToken, code: '123456' }), 401, 'INVALID_MFA_CODE');
    expectProblem(await mfaRaw(t.app, { mfaToken: user.refreshToken, code: '123456' }), 401, 'INVALID_MFA_CODE');
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/webauthn/options', payload: { mfaToken: user.accessToken } }), 401, 'INVALID_MFA_CODE');
  });

  it('a password change ends a pending sign-in (bound to the token version)', async () => {
    const user = await newUser(t.app, 'consultant');
    const { secret } = await enrolTotp(t.app, user);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    await prisma.user.update({ where: { id: user.id }, data: { tokenVersion: { increment: 1 } } });
    const step = await awayFromStepEdge();
    expectProblem(await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 1) }), 401, 'INVALID_MFA_CODE');
  });

  it('wrong codes spend the password budget: the right password does not reset it, the 11th answer is ACCOUNT_LOCKED', async () => {
    const user = await newUser(t.app, 'consultant');
    const { secret } = await enrolTotp(t.app, user);
    const step = await awayFromStepEdge(20_000);
    const wrong = totpAt(secret, step + 10);
    let { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    for (let i = 0; i < 5; i++) expectProblem(await mfaRaw(t.app, { mfaToken, code: wrong }), 401, 'INVALID_MFA_CODE');
    ({ mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD));
    for (let i = 0; i < 5; i++) expectProblem(await mfaRaw(t.app, { mfaToken, code: wrong }), 401, 'INVALID_MFA_CODE');
    // Ten failures: locked, even for the right code and the right password.
    expectProblem(await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 1) }), 429, 'ACCOUNT_LOCKED');
    expectProblem(await loginRaw(t.app, user.username, PASSWORD), 429, 'ACCOUNT_LOCKED');
    const locked = await auditOf(prisma, 'account_locked');
    expect(locked.some((r) => r.userId === user.id)).toBe(true);
  });

  it('recovery codes: each works once, in any case and spacing; the count goes down', async () => {
    const user = await newUser(t.app, 'consultant');
    const { recoveryCodes } = await enrolTotp(t.app, user);
    const code = recoveryCodes[3]!;
    let { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const used = await mfaRaw(t.app, { mfaToken, recoveryCode: code.toLowerCase().replace(/-/g, ' ') });
    expect(used.statusCode, used.body).toBe(200);
    const session = sessionFrom(used.json(), PASSWORD);
    expect(await status(session)).toMatchObject({ recoveryCodesLeft: 9 });
    ({ mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD));
    expectProblem(await mfaRaw(t.app, { mfaToken, recoveryCode: code }), 401, 'INVALID_MFA_CODE');
    const other = await mfaRaw(t.app, { mfaToken, recoveryCode: recoveryCodes[4]! });
    expect(other.statusCode).toBe(200);
    const records = await auditOf(prisma, 'recovery_code_used');
    expect(records.filter((r) => r.userId === user.id)).toHaveLength(2);
    expect(JSON.stringify(records)).not.toContain(code);
  });

  it('two right codes at once: exactly one sign-in completes', async () => {
    const user = await newUser(t.app, 'consultant');
    const { recoveryCodes } = await enrolTotp(t.app, user);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const answers = await Promise.all([mfaRaw(t.app, { mfaToken, recoveryCode: recoveryCodes[0]! }), mfaRaw(t.app, { mfaToken, recoveryCode: recoveryCodes[1]! })]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401]);
  });

  it('removing the authenticator needs the password (on the budget); then the password alone signs in', async () => {
    const user = await newUser(t.app, 'consultant');
    const { recoveryCodes } = await enrolTotp(t.app, user);
    const { mfaToken } = await mfaTokenOf(t.app, user.username, PASSWORD);
    const session = sessionFrom((await mfaRaw(t.app, { mfaToken, recoveryCode: recoveryCodes[0]! })).json(), PASSWORD);
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/api/v1/users/me/mfa/totp', headers: session.headers, payload: { password: 'not the password' } }), 401, 'WRONG_PASSWORD');
    expect((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).failedLoginCount).toBe(1);
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/api/v1/users/me/mfa/totp', headers: session.headers, payload: {} }), 400, 'VALIDATION_FAILED');
    const removed = await t.app.inject({ method: 'DELETE', url: '/api/v1/users/me/mfa/totp', headers: session.headers, payload: { password: PASSWORD } });
    expect(removed.statusCode).toBe(204);
    expect(await status(session)).toMatchObject({ totp: false, recoveryCodesLeft: 0 });
    expect((await loginRaw(t.app, user.username, PASSWORD)).json()).toHaveProperty('accessToken');
  });

  /** What the database holds: the SQLite file and its WAL, or on PostgreSQL every row of every table as text (bytea as hex). */
  async function storedBytes(): Promise<Buffer> {
    if (!t.config.databaseUrl.startsWith('file:')) {
      const tables = await prisma.$queryRaw<Array<{ name: string }>>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`;
      const parts: string[] = [];
      for (const { name } of tables) {
        const rows = await prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT row_to_json(x)::text AS row FROM "${name}" x`);
        parts.push(...rows.map((r) => r.row));
      }
      expect(parts.join('\n')).toContain('kek_');
      return Buffer.from(parts.join('\n'));
    }
    const dbFile = t.config.databaseUrl.replace(/^file:/, '');
    expect(path.basename(dbFile)).toBe('sfe.db');
    let bytes = await readFile(dbFile);
    if (existsSync(`${dbFile}-wal`)) bytes = Buffer.concat([bytes, await readFile(`${dbFile}-wal`)]);
    return bytes;
  }

  it('never stores the TOTP secret in the clear (the SQLite file and its WAL, or every PostgreSQL row)', async () => {
    const user = await newUser(t.app, 'consultant');
    const { secret } = await enrolTotp(t.app, user);
    const raw = Buffer.from(Secret.fromBase32(secret).bytes);
    const bytes = await storedBytes();
    expect(bytes.includes(raw)).toBe(false);
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    expect(bytes.includes(Buffer.from(raw.toString('hex')))).toBe(false);
    expect(bytes.includes(Buffer.from(raw.toString('base64').replace(/=+$/, '')))).toBe(false);
    const row = await prisma.mfaTotp.findUniqueOrThrow({ where: { userId: user.id } });
    expect(row.kekId).toMatch(/^kek_/);
    // Bound to its user: moved to another user's row it no longer opens.
    const other = await newUser(t.app, 'consultant');
    await prisma.mfaTotp.create({ data: { userId: other.id, wrappedSecret: row.wrappedSecret, kekId: row.kekId, confirmedAt: new Date() } });
    const { mfaToken } = await mfaTokenOf(t.app, other.username, PASSWORD);
    const step = await awayFromStepEdge();
    const answer = await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 1) });
    expect(answer.statusCode).not.toBe(200);
  });

  it('admin reset removes every factor and ends the sessions; erasure leaves no MFA row', async () => {
    const admin = await newAdmin(t, prisma);
    const user = await newUser(t.app, 'consultant');
    await enrolTotp(t.app, user);
    expectProblem(await adminCall(t.app, user, 'POST', `/users/${user.id}/mfa-reset`, {}), 403, 'FORBIDDEN');
    expectProblem(await adminCall(t.app, admin, 'POST', `/users/${admin.id}/mfa-reset`, {}), 409, 'CONFLICT');
    const reset = await adminCall(t.app, admin, 'POST', `/users/${user.id}/mfa-reset`, {});
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ totpRemoved: true, passkeysRemoved: 0, recoveryCodesRemoved: 10, user: { id: user.id } });
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers }), 401);
    expect((await loginRaw(t.app, user.username, PASSWORD)).json()).toHaveProperty('accessToken');
    const records = await auditOf(prisma, 'mfa_reset');
    expect(records.some((r) => r.userId === admin.id && r.details.targetUserId === user.id && r.success)).toBe(true);

    const gone = await newUser(t.app, 'consultant');
    await enrolTotp(t.app, gone);
    expect((await adminCall(t.app, admin, 'DELETE', `/users/${gone.id}`)).statusCode).toBe(200);
    expect(await prisma.mfaTotp.count({ where: { userId: gone.id } })).toBe(0);
    expect(await prisma.recoveryCode.count({ where: { userId: gone.id } })).toBe(0);
    expect(await prisma.mfaChallenge.count({ where: { userId: gone.id } })).toBe(0);
  });

  it('sfe user mfa-reset asks first, then resets and prints JSON', async () => {
    const user = await newUser(t.app, 'consultant');
    await enrolTotp(t.app, user);
    const sfe = async (...args: string[]) => runSfe(args, { DATA_DIR: t.dataDir });
    expect((await sfe('user', 'mfa-reset', '--username', user.username, '--json')).code).toBe(3);
    expect((await sfe('user', 'mfa-reset', '--username', 'nobody-at-all', '--yes')).code).toBe(3);
    expect(await prisma.mfaTotp.count({ where: { userId: user.id } })).toBe(1);
    const ran = await sfe('user', 'mfa-reset', '--username', user.username, '--yes', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ totpRemoved: true, passkeysRemoved: 0, recoveryCodesRemoved: 10 });
    expect(await prisma.mfaTotp.count({ where: { userId: user.id } })).toBe(0);
    const records = await auditOf(prisma, 'mfa_reset');
    expect(records.some((r) => r.userId === 'operator' && r.details.targetUserId === user.id)).toBe(true);
  });
});

describe('MFA_REQUIRED_ROLES', () => {
  it('defaults to admin, takes a comma list or nothing, refuses an unknown role', () => {
    const dataDir = path.join(process.cwd(), 'data-unused');
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }).mfa.requiredRoles).toEqual(['admin']);
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, MFA_REQUIRED_ROLES: '' }).mfa.requiredRoles).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, MFA_REQUIRED_ROLES: 'admin, organization' }).mfa.requiredRoles).toEqual(['admin', 'organization']);
    expect(() => loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, MFA_REQUIRED_ROLES: 'root' })).toThrow(/MFA_REQUIRED_ROLES/);
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '4000' }).mfa).toMatchObject({ rpId: 'localhost', origins: ['http://localhost:4000'] });
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, CORS_ORIGIN: 'https://sfe.example.com' }).mfa).toMatchObject({ rpId: 'sfe.example.com' });
    expect(() => loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, WEBAUTHN_ORIGIN: 'https://a.example.com/path' })).toThrow(/WEBAUTHN_ORIGIN/);
    expect(() => loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, WEBAUTHN_ORIGIN: 'https://a.example.com', WEBAUTHN_RP_ID: 'other.org' })).toThrow(/WEBAUTHN_RP_ID/);
  });

  it('with the default, an admin without a factor gets 403 MFA_REQUIRED except on sign-in and enrolment', async () => {
    const t = await buildTestApp({ env: { MFA_REQUIRED_ROLES: 'admin' } });
    const prisma = openDb(t);
    try {
      const admin = await newAdmin(t, prisma);
      expectProblem(await adminCall(t.app, admin, 'GET', '/users'), 403, 'MFA_REQUIRED');
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: admin.headers }), 403, 'MFA_REQUIRED');
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: admin.headers }), 403, 'MFA_REQUIRED');
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: admin.headers })).statusCode).toBe(200);
      const mine = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/mfa', headers: admin.headers });
      expect(mine.json()).toMatchObject({ totp: false, required: true });
      // A consultant is not gated.
      const con = await newUser(t.app, 'consultant');
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: con.headers })).statusCode).toBe(200);
      // Enrolled: the same session goes on.
      const { secret } = await enrolTotp(t.app, admin);
      expect((await adminCall(t.app, admin, 'GET', '/users')).statusCode).toBe(200);
      // And the next sign-in asks for the code.
      const { mfaToken } = await mfaTokenOf(t.app, admin.username, admin.password);
      const step = await awayFromStepEdge();
      const signedIn = await mfaRaw(t.app, { mfaToken, code: totpAt(secret, step + 1) });
      expect(signedIn.statusCode, signedIn.body).toBe(200);
      expect((await adminCall(t.app, sessionFrom(signedIn.json(), admin.password), 'GET', '/users')).statusCode).toBe(200);
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });
});
