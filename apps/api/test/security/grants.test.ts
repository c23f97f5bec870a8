import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '@sfe/contract';
import { generateDek, generateRsaKeyPair, rsaWrapDek } from '@sfe/crypto';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { unwrapGrantDek } from '../../src/modules/access-requests/grant-wrap.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { approve, downloadRaw, expectProblem, grantedPair, newUser, requestAccess, requestAccessRaw, uploadFile } from '../helpers/fixtures.ts';
import { eventually } from '../faults/blob-dir.ts';

/** Issue 9, items 1 and 10, and grants bound in the cryptography. */
describe('grants', () => {
  let t: TestApp;
  let db: PrismaClient;
  beforeAll(async () => {
    t = await buildTestApp();
    db = createPrismaClient(t.config.databaseUrl);
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
  });

  const grantOf = async (session: Session, id: string) =>
    (await t.app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: session.headers }))
      .json<{ items: AccessRequest[] }>()
      .items.find((item) => item.id === id);
  const rotate = (session: Session, keySize?: 2048 | 4096) =>
    t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: session.headers, payload: { password: session.password, ...(keySize ? { keySize } : {}) } });

  it('9.1: an approval racing the consultant key rotation ends downloadable (or cleanly refused), and rotation keeps working', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const data = Buffer.from('raced grant payload');
    const file = await uploadFile(t.app, org, { data });
    const pending = await requestAccess(t.app, con, file.id);
    // A 4096-bit key takes long enough to make: the approval lands while it is being made.
    const rotation = rotate(con, 4096);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const approval = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${pending.id}/approve`, headers: org.headers, payload: {} });
    const rotated = await rotation;
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect([200, 409]).toContain(approval.statusCode);
    if (approval.statusCode === 409) await approve(t.app, org, pending.id);
    const grant = await grantOf(con, pending.id);
    expect(grant?.consultantKeyFingerprint).toBe(rotated.json().fingerprint);
    const download = await downloadRaw(t.app, con, pending.id, con.password);
    expect(download.statusCode, download.body).toBe(200);
    expect(download.rawPayload.equals(data)).toBe(true);
    expect((await rotate(con)).statusCode).toBe(200);
    expect((await downloadRaw(t.app, con, pending.id, con.password)).statusCode).toBe(200);
  });

  it('9.1: a grant wrapped to a key that no longer exists never breaks rotation; it is closed so the consultant can ask again', async () => {
    const { con, file, request } = await grantedPair(t.app);
    await db.accessRequest.update({
      where: { id: request.id },
      data: { wrappedSymmetricKey: new Uint8Array(randomBytes(257)), consultantKeyFingerprint: 'SHA256:'.padEnd(71, '0') },
    });
    const rotated = await rotate(con);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect((await grantOf(con, request.id))?.status).toBe('revoked');
    expect((await requestAccessRaw(t.app, con, file.id)).statusCode).toBe(201);
    expect((await rotate(con)).statusCode).toBe(200);
  });

  describe('9.10: downloads count only when delivered', () => {
    it('an aborted download gives its count back; a used-up grant is closed and can be asked for again', async () => {
      const data = randomBytes(4 * 1024 * 1024);
      const { con, file, request, org } = await grantedPair(t.app, { data, approveBody: { maxDownloads: 1 } });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({ password: con.password });
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: `/api/v1/access-requests/${request.id}/download`, headers: { ...con.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            expect(res.statusCode).toBe(200);
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
        req.end(body);
      });
      const afterAbort = await eventually(() => grantOf(con, request.id), (grant) => grant?.downloadCount === 0);
      expect(afterAbort?.downloadCount).toBe(0);
      expect(afterAbort?.status).toBe('approved');

      const full = await downloadRaw(t.app, con, request.id, con.password);
      expect(full.statusCode).toBe(200);
      expect(full.rawPayload.equals(data)).toBe(true);
      const used = await eventually(() => grantOf(con, request.id), (grant) => grant?.status === 'expired');
      expect(used).toMatchObject({ status: 'expired', downloadCount: 1 });
      const row = await db.accessRequest.findUnique({ where: { id: request.id }, select: { wrappedSymmetricKey: true } });
      expect(row?.wrappedSymmetricKey).toBeNull();
      expectProblem(await downloadRaw(t.app, con, request.id, con.password), 403, 'DOWNLOAD_LIMIT_REACHED');
      const again = await requestAccess(t.app, con, file.id);
      await approve(t.app, org, again.id);
      expect((await downloadRaw(t.app, con, again.id, con.password)).statusCode).toBe(200);
    });
  });

  describe('grants bound in the cryptography', () => {
    it('a wrapped key copied onto another grant of the same consultant does not open', async () => {
      const org = await newUser(t.app, 'organization');
      const con = await newUser(t.app, 'consultant');
      const a = await grantedPair(t.app, { org, con });
      const b = await grantedPair(t.app, { org, con });
      const source = await db.accessRequest.findUnique({ where: { id: a.request.id }, select: { wrappedSymmetricKey: true } });
      await db.accessRequest.update({ where: { id: b.request.id }, data: { wrappedSymmetricKey: source?.wrappedSymmetricKey ?? null } });
      const response = await downloadRaw(t.app, con, b.request.id, con.password);
      expectProblem(response, 500, 'INTERNAL_ERROR');
      expect((await downloadRaw(t.app, con, a.request.id, con.password)).statusCode).toBe(200);
    });

    it('a grant whose expiry was edited in the database does not open', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const { con, request } = await grantedPair(t.app, { approveBody: { expiresAt } });
      await db.accessRequest.update({ where: { id: request.id }, data: { expiresAt: new Date(Date.now() + 365 * 86_400_000) } });
      expectProblem(await downloadRaw(t.app, con, request.id, con.password), 500, 'INTERNAL_ERROR');
    });

    it('stores the v2 format (version byte + ciphertext) and still opens v1 wraps with the empty label', async () => {
      const { request } = await grantedPair(t.app);
      const row = await db.accessRequest.findUnique({ where: { id: request.id }, select: { wrappedSymmetricKey: true } });
      expect(row?.wrappedSymmetricKey?.[0]).toBe(2);
      expect(row?.wrappedSymmetricKey?.length).toBe(257);
      const pair = await generateRsaKeyPair(2048);
      const dek = generateDek();
      const binding = { id: 'g', consultantId: 'c', fileId: 'f', expiresAt: null };
      const v1 = await rsaWrapDek(pair.publicKeyPem, dek);
      expect((await unwrapGrantDek(pair.privateKeyDer, v1, binding)).equals(dek)).toBe(true);
    });
  });
});
