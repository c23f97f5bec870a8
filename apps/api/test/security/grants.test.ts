import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '@sfe/contract';
import { generateDek, generateRsaKeyPair, rsaWrapDek } from '@sfe/crypto';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { unwrapGrantDek } from '../../src/modules/access-requests/grant-wrap.ts';
import { TEST_KDF, buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { actOnRequest, approve, downloadRaw, expectProblem, grantedPair, newUser, requestAccess, requestAccessRaw, uploadFile } from '../helpers/fixtures.ts';
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

  it('9.1: approvals racing the consultant key rotation all end wrapped to the new key, and rotation keeps working', async () => {
    // Real-sized key derivation, so the rotation has the window the attack used: between
    // reading the approved grants and committing the new key it re-encrypts the private key.
    const slow = await buildTestApp({ config: { kdf: { ...TEST_KDF, pbkdf2Iterations: 600_000 } } });
    try {
      const org = await newUser(slow.app, 'organization');
      const con = await newUser(slow.app, 'consultant');
      const pending: string[] = [];
      for (let i = 0; i < 24; i++) {
        const file = await uploadFile(slow.app, org, { data: Buffer.from(`raced grant ${i}`) });
        pending.push((await requestAccess(slow.app, con, file.id)).id);
      }
      const rotation = slow.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password } });
      let settled = false;
      void rotation.then(() => (settled = true));
      // Approvals spread over the whole rotation, one every 100 ms, so some land inside its window.
      const approvals: Array<Promise<{ statusCode: number }>> = [];
      for (const id of pending) {
        if (settled) break;
        approvals.push(slow.app.inject({ method: 'POST', url: `/api/v1/access-requests/${id}/approve`, headers: org.headers, payload: {} }));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const rotated = await rotation;
      expect(rotated.statusCode, rotated.body).toBe(200);
      const statuses = (await Promise.all(approvals)).map((r) => r.statusCode);
      console.log(`9.1: ${approvals.length} approvals during the rotation: ${statuses.join(',')}`);
      expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
      const { fingerprint } = rotated.json<{ fingerprint: string }>();
      const grants = (await slow.app.inject({ method: 'GET', url: '/api/v1/access-requests?limit=200', headers: con.headers }))
        .json<{ items: AccessRequest[] }>()
        .items.filter((item) => item.status === 'approved');
      expect(grants.length).toBe(statuses.filter((status) => status === 200).length);
      // Every approved grant is wrapped to the key the consultant holds now: none to the destroyed one.
      expect(grants.filter((grant) => grant.consultantKeyFingerprint !== fingerprint).map((grant) => grant.id)).toEqual([]);
      const again = await slow.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password } });
      expect(again.statusCode, again.body).toBe(200);
      const first = grants[0];
      if (first) expect((await downloadRaw(slow.app, con, first.id, con.password)).statusCode).toBe(200);
    } finally {
      await slow.cleanup();
    }
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
    it('a wrapped key copied onto another grant does not open, even for the same file and consultant', async () => {
      const { org, con, file, request } = await grantedPair(t.app);
      const saved = await db.accessRequest.findUnique({ where: { id: request.id }, select: { wrappedSymmetricKey: true } });
      expect((await actOnRequest(t.app, org, request.id, 'revoke')).statusCode).toBe(200);
      const next = await requestAccess(t.app, con, file.id);
      await approve(t.app, org, next.id);
      // The same DEK wrapped to the same key, only for another grant: a status check alone would let it through.
      await db.accessRequest.update({ where: { id: next.id }, data: { wrappedSymmetricKey: saved?.wrappedSymmetricKey ?? null } });
      expectProblem(await downloadRaw(t.app, con, next.id, con.password), 500, 'INTERNAL_ERROR');
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
