import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { buildTestApp, multipartBody, signUp, type TestApp } from '../helpers/app.ts';

/** Runs every audited operation once over HTTP, then reads crypto_logs directly. */
describe('audit trail', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  const password = 'the consultant password';

  beforeAll(async () => {
    t = await buildTestApp();
    const org = await signUp(t.app, 'organization');
    const con = await signUp(t.app, 'consultant', { password });
    const body = multipartBody([{ name: 'file', filename: 'f.bin', data: randomBytes(70_000) }]);
    const file = (await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload })).json();
    const request = async () =>
      (await t.app.inject({ method: 'POST', url: `/api/v1/files/${file.id}/access-requests`, headers: con.headers, payload: { reason: 'r' } })).json();
    const first = await request();
    await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${first.id}/deny`, headers: org.headers, payload: {} });
    const second = await request();
    await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${second.id}/approve`, headers: org.headers, payload: {} });
    await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${second.id}/download`, headers: con.headers, payload: { password: 'wrong wrong wrong' } });
    await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${second.id}/download`, headers: con.headers, payload: { password } });
    await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password } });
    await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${second.id}/revoke`, headers: org.headers });
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: org.username, password: 'not the password' } });
    for (let i = 0; i < 10; i++) {
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: con.username, password: `wrong ${i}` } });
    }
    await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${file.id}`, headers: org.headers });
    // Last: it ends the organization's access token.
    await t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', headers: org.headers, payload: { currentPassword: org.password, newPassword: 'a brand new password' } });
    prisma = createPrismaClient(t.config.databaseUrl);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('records each operation of docs/api.md that the flow performed, failures included', async () => {
    const records = await createAuditRepository(prisma).list({}, 10_000);
    const seen = new Set(records.map((r) => `${r.operation}:${r.success}`));
    for (const expected of [
      'keypair_generated:true',
      'file_encrypted:true',
      'key_wrapped:true',
      'access_requested:true',
      'access_denied:true',
      'key_unwrapped:true',
      'access_granted:true',
      'private_key_decrypted:false',
      'private_key_decrypted:true',
      'file_decrypted:true',
      'keypair_rotated:true',
      'access_revoked:true',
      'login_failed:false',
      'account_locked:true',
      'password_changed:true',
      'file_deleted:true',
    ]) {
      expect(seen, expected).toContain(expected);
    }
    for (const record of records) {
      expect(record.details).not.toContain(password);
      expect(record.details).not.toMatch(/BEGIN|PRIVATE KEY/);
      expect(record.timestamp).toBeInstanceOf(Date);
    }
    expect(records.filter((r) => r.operation === 'private_key_decrypted' && !r.success)[0]?.ipAddress).toBeTruthy();
  });

  it('keeps an intact hash chain, and reports the first record edited afterwards', async () => {
    const audit = createAuditRepository(prisma);
    const intact = await audit.verifyChain({ batchSize: 7 });
    expect(intact.ok).toBe(true);
    expect(intact.checked).toBe(await audit.count());

    const [, victim] = await audit.list({}, 2);
    if (!victim) throw new Error('expected at least two records');
    await prisma.cryptoLog.update({ where: { id: victim.id }, data: { details: '{"tampered":true}' } });
    expect(await audit.verifyChain({ batchSize: 7 })).toMatchObject({ ok: false, checked: 1, firstBrokenId: victim.id });
  });
});

describe('audit appends under concurrency', () => {
  it('keeps every one of 80 concurrent records in one unbroken chain', async () => {
    const t = await buildTestApp();
    const prisma = createPrismaClient(t.config.databaseUrl);
    try {
      const audit = createAuditRepository(prisma);
      const before = await audit.count();
      await Promise.all(
        Array.from({ length: 80 }, (_, i) => audit.append({ operation: 'key_wrapped', success: true, details: { n: i } }, `concurrent-${i}`)),
      );
      expect(await audit.count()).toBe(before + 80);
      expect(await audit.verifyChain()).toMatchObject({ ok: true, checked: before + 80 });
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });
});
