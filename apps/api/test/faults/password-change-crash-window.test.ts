import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { openDb } from '../helpers/admin.ts';
import { downloadRaw, expectProblem, grantedPair, loginAs, loginRaw, PASSWORD } from '../helpers/fixtures.ts';

/**
 * A password change writes the key store (private key under the new password), then the
 * database (the new hash). A crash in between is reproduced exactly by putting the old
 * hash back after a change: sign-in takes the old password, the key opens only with the
 * new one. Retrying the same change must finish it instead of answering WRONG_PASSWORD.
 */
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

const NEW_PASSWORD = 'a brand new passphrase for the key';

it('a change interrupted between the key store and the database write is finished by retrying it', async () => {
  const { con, request, data } = await grantedPair(t.app);
  const { passwordHash: oldHash } = await prisma.user.findUniqueOrThrow({ where: { id: con.id } });
  const change = (session: typeof con) =>
    t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', headers: session.headers, payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
  expect((await change(con)).statusCode).toBe(204);
  await prisma.user.update({ where: { id: con.id }, data: { passwordHash: oldHash } });

  // The crashed state: the old password signs in, but the key no longer opens with it.
  const session = await loginAs(t.app, con.username, PASSWORD);
  expectProblem(await downloadRaw(t.app, session, request.id, PASSWORD), 401, 'WRONG_PASSWORD');

  const retried = await change(session);
  expect(retried.statusCode, retried.body).toBe(204);
  expectProblem(await loginRaw(t.app, con.username, PASSWORD), 401, 'INVALID_CREDENTIALS');
  const after = await loginAs(t.app, con.username, NEW_PASSWORD);
  expect((await downloadRaw(t.app, after, request.id, NEW_PASSWORD)).rawPayload.equals(data)).toBe(true);
  const records = await prisma.cryptoLog.findMany({ where: { operation: 'password_changed', userId: con.id, success: true }, orderBy: { seq: 'asc' } });
  expect(records.map((r) => JSON.parse(r.details) as Record<string, unknown>).at(-1)).toMatchObject({ resumed: true, privateKeyReencrypted: true });
});

it('still refuses a change whose current password opens nothing', async () => {
  const { con } = await grantedPair(t.app);
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/users/me/password',
    headers: con.headers,
    payload: { currentPassword: 'not the password at all', newPassword: NEW_PASSWORD },
  });
  expectProblem(response, 401, 'WRONG_PASSWORD');
  expect((await loginRaw(t.app, con.username, PASSWORD)).statusCode).toBe(200);
});
