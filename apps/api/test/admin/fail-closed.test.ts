import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildFailingAuditApp, type FailingAuditApp } from '../helpers/failing-audit.ts';
import type { TestApp } from '../helpers/app.ts';
import { approve, downloadRaw, expectProblem, grantedPair, loginRaw, newUser, requestAccess, uploadFile, PASSWORD } from '../helpers/fixtures.ts';

/** Sensitive operations that release something: no record, no release. */
describe('fail-closed audit', () => {
  let f: FailingAuditApp;
  let t: TestApp;
  let prisma: PrismaClient;
  let failing: Set<string>;

  beforeAll(async () => {
    f = await buildFailingAuditApp();
    ({ t, prisma, failing } = f);
  });
  afterAll(() => f.close());

  it('refuses a download whose private-key unlock cannot be audited, and releases no plaintext', async () => {
    const { con, request, data } = await grantedPair(t.app);
    failing.add('private_key_decrypted');
    try {
      const response = await downloadRaw(t.app, con, request.id, PASSWORD);
      expectProblem(response, 503, 'AUDIT_UNAVAILABLE');
      expect(response.rawPayload.includes(data)).toBe(false);
      expect((await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).downloadCount).toBe(0);
    } finally {
      failing.clear();
    }
    expect((await downloadRaw(t.app, con, request.id, PASSWORD)).rawPayload.equals(data)).toBe(true);
  });

  it('refuses a download whose DEK unwrap cannot be audited', async () => {
    const { con, request } = await grantedPair(t.app);
    failing.add('key_unwrapped');
    try {
      expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 503, 'AUDIT_UNAVAILABLE');
    } finally {
      failing.clear();
    }
    expect((await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).downloadCount).toBe(0);
  });

  it('refuses an approval whose unwrap cannot be audited: the request stays pending, no key wrapped', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const file = await uploadFile(t.app, org, { data: Buffer.from('approve me') });
    const pending = await requestAccess(t.app, con, file.id);
    failing.add('key_unwrapped');
    try {
      await expect(approve(t.app, org, pending.id)).rejects.toThrow(/503/);
    } finally {
      failing.clear();
    }
    const row = await prisma.accessRequest.findUniqueOrThrow({ where: { id: pending.id } });
    expect(row).toMatchObject({ status: 'pending', wrappedSymmetricKey: null });
  });

  it('keeps answering sign-in failures, and the failure itself, when their record cannot be written', async () => {
    const { con, request } = await grantedPair(t.app);
    failing.add('login_failed');
    failing.add('private_key_decrypted');
    try {
      expectProblem(await loginRaw(t.app, con.username, 'not the right password'), 401, 'INVALID_CREDENTIALS');
      // A failure record that cannot be written never hides the failure it describes.
      expectProblem(await downloadRaw(t.app, con, request.id, 'not the right password'), 401, 'WRONG_PASSWORD');
    } finally {
      failing.clear();
    }
  });
});
