import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AccessRequestList, FileMetadata } from '@sfe/contract';
import { buildTestApp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import {
  actOnRequest,
  approve,
  downloadRaw,
  expectProblem,
  expectValidation,
  grantedPair,
  newUser,
  requestAccess,
  requestAccessRaw,
  uploadFile,
} from '../helpers/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('access requests', () => {
  let t: TestApp;
  let org: Session;
  let otherOrg: Session;
  let con: Session;
  let otherCon: Session;
  beforeAll(async () => {
    t = await buildTestApp();
    org = await newUser(t.app, 'organization');
    otherOrg = await newUser(t.app, 'organization');
    con = await newUser(t.app, 'consultant');
    otherCon = await newUser(t.app, 'consultant');
  });
  afterAll(async () => t.cleanup());

  const newFile = (owner: Session = org, data: Buffer = randomBytes(64)) =>
    uploadFile(t.app, owner, { data, filename: `${uniqueName('f')}.txt`, contentType: 'text/plain' });
  const list = (session: Session | null, query = '') =>
    t.app.inject({ method: 'GET', url: `/api/v1/access-requests${query}`, headers: session?.headers ?? {} });
  const listed = async (session: Session, query = '') => (await list(session, query)).json<AccessRequestList>().items;
  const pendingRequest = async (file?: FileMetadata, by: Session = con) => requestAccess(t.app, by, (file ?? (await newFile())).id);

  describe('POST /files/{id}/access-requests', () => {
    it('creates a pending request: 201 with the named fields', async () => {
      const file = await newFile();
      const response = await requestAccessRaw(t.app, con, file.id, 'need it for the audit');
      expect(response.statusCode, response.body).toBe(201);
      const request = response.json<AccessRequest>();
      expect(typeof request.id).toBe('string');
      expect(request).toMatchObject({
        fileId: file.id,
        filename: file.filename,
        consultantId: con.id,
        consultantName: con.username,
        status: 'pending',
        reason: 'need it for the audit',
        processedAt: null,
        expiresAt: null,
        maxDownloads: null,
        downloadCount: 0,
      });
      expect(request.createdAt).toMatch(ISO);
      expect(request).toHaveProperty('consultantKeyFingerprint');
    });

    it('a second open request for the same file is 409 CONFLICT; after a denial a new one is allowed', async () => {
      const file = await newFile();
      const first = await requestAccess(t.app, con, file.id);
      expectProblem(await requestAccessRaw(t.app, con, file.id), 409, 'CONFLICT');
      // Another consultant is not affected by con's request.
      expect((await requestAccessRaw(t.app, otherCon, file.id)).statusCode).toBe(201);
      expect((await actOnRequest(t.app, org, first.id, 'deny', {})).statusCode).toBe(200);
      expect((await requestAccessRaw(t.app, con, file.id)).statusCode).toBe(201);
    });

    it('is 401 anonymously, 403 FORBIDDEN for an organization, 404 for an unknown file', async () => {
      const file = await newFile();
      expectProblem(await requestAccessRaw(t.app, null, file.id), 401, 'UNAUTHORIZED');
      expectProblem(await requestAccessRaw(t.app, org, file.id), 403, 'FORBIDDEN');
      expectProblem(await requestAccessRaw(t.app, otherOrg, file.id), 403, 'FORBIDDEN');
      expectProblem(await requestAccessRaw(t.app, con, UNKNOWN_ID), 404, 'NOT_FOUND');
    });

    it('validates the body and the id', async () => {
      const file = await newFile();
      const send = (payload: Record<string, unknown>, id = file.id) =>
        t.app.inject({ method: 'POST', url: `/api/v1/files/${id}/access-requests`, headers: con.headers, payload });
      expectValidation(await send({}), 'body.reason');
      expectValidation(await send({ reason: '' }), 'body.reason');
      expectValidation(await send({ reason: 'r'.repeat(2001) }), 'body.reason');
      expectValidation(await send({ reason: 'ok', status: 'approved' }), 'body.status');
      expectValidation(await send({ reason: 'ok' }, 'bad.id'), 'params.id');
    });
  });

  describe('GET /access-requests', () => {
    it('an organization sees requests on its files only; a consultant sees its own only', async () => {
      const mine = await pendingRequest(await newFile(org), con);
      const theirs = await pendingRequest(await newFile(otherOrg), otherCon);

      const orgIds = (await listed(org, '?limit=200')).map((r) => r.id);
      expect(orgIds).toContain(mine.id);
      expect(orgIds).not.toContain(theirs.id);
      const otherOrgIds = (await listed(otherOrg, '?limit=200')).map((r) => r.id);
      expect(otherOrgIds).toContain(theirs.id);
      expect(otherOrgIds).not.toContain(mine.id);

      const conItems = await listed(con, '?limit=200');
      expect(conItems.every((r) => r.consultantId === con.id)).toBe(true);
      expect(conItems.map((r) => r.id)).toContain(mine.id);
      expect((await listed(otherCon, '?limit=200')).map((r) => r.id)).not.toContain(mine.id);
    });

    it('filters by status and fileId', async () => {
      const file = await newFile();
      const a = await pendingRequest(file, con);
      const b = await pendingRequest(file, otherCon);
      await approve(t.app, org, b.id);

      const byFile = await listed(org, `?fileId=${file.id}`);
      expect(byFile.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect((await listed(org, `?fileId=${file.id}&status=approved`)).map((r) => r.id)).toEqual([b.id]);
      expect((await listed(org, `?fileId=${file.id}&status=pending`)).map((r) => r.id)).toEqual([a.id]);
      expect(await listed(org, `?fileId=${file.id}&status=denied`)).toEqual([]);
      expect((await listed(con, `?fileId=${file.id}`)).map((r) => r.id)).toEqual([a.id]);
      for (const item of await listed(con, '?status=pending&limit=200')) expect(item.status).toBe('pending');
      expect(await listed(otherOrg, `?fileId=${file.id}`)).toEqual([]);
    });

    it('pages with limit and nextCursor', async () => {
      const consultant = await newUser(t.app, 'consultant');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await pendingRequest(undefined, consultant)).id);
      const first = (await list(consultant, '?limit=2')).json<AccessRequestList>();
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = (await list(consultant, `?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`)).json<AccessRequestList>();
      expect(second.items).toHaveLength(1);
      expect(second.nextCursor).toBeNull();
      expect([...first.items, ...second.items].map((r) => r.id).sort()).toEqual(ids.sort());
    });

    it('rejects a cursor it never issued: 400 VALIDATION_FAILED naming querystring.cursor', async () => {
      expectValidation(await list(org, '?cursor=not-a-real-cursor'), 'querystring.cursor');
    });

    it('validates the query and needs a token', async () => {
      expectValidation(await list(org, '?status=bogus'), 'querystring.status');
      expectValidation(await list(org, '?limit=201'), 'querystring.limit');
      expectValidation(await list(org, '?fileId=bad.id'), 'querystring.fileId');
      expectValidation(await list(org, '?consultantId=x'), 'querystring.consultantId');
      expectProblem(await list(null), 401, 'UNAUTHORIZED');
    });
  });

  describe('approve, deny, revoke', () => {
    it('approve with expiresAt and maxDownloads: 200 approved with the grant terms', async () => {
      const request = await pendingRequest();
      const expiresAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const response = await actOnRequest(t.app, org, request.id, 'approve', { expiresAt, maxDownloads: 3 });
      expect(response.statusCode, response.body).toBe(200);
      const approved = response.json<AccessRequest>();
      expect(approved.status).toBe('approved');
      expect(approved.id).toBe(request.id);
      expect(new Date(approved.expiresAt!).getTime()).toBe(new Date(expiresAt).getTime());
      expect(approved.expiresAt).toMatch(ISO);
      expect(approved.maxDownloads).toBe(3);
      expect(approved.downloadCount).toBe(0);
      expect(approved.processedAt).toMatch(ISO);
      const keys = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: con.headers });
      expect(approved.consultantKeyFingerprint).toBe(keys.json<{ fingerprint: string }>().fingerprint);
    });

    it('approve without terms grants unlimited access', async () => {
      const approved = await approve(t.app, org, (await pendingRequest()).id, {});
      expect(approved).toMatchObject({ status: 'approved', expiresAt: null, maxDownloads: null });
    });

    it('validates the approval terms', async () => {
      const request = await pendingRequest();
      const send = (body: Record<string, unknown>) => actOnRequest(t.app, org, request.id, 'approve', body);
      expectValidation(await send({ expiresAt: 'next tuesday' }), 'body.expiresAt');
      expectValidation(await send({ maxDownloads: 0 }), 'body.maxDownloads');
      expectValidation(await send({ maxDownloads: 1.5 }), 'body.maxDownloads');
      expectValidation(await send({ status: 'approved' }), 'body.status');
      // Nothing was approved by the failed attempts.
      expect((await listed(org, `?fileId=${request.fileId}`))[0]?.status).toBe('pending');
    });

    it('approve with an expiresAt in the past: 400 VALIDATION_FAILED naming body.expiresAt, still pending', async () => {
      const request = await pendingRequest();
      const past = new Date(Date.now() - 60_000).toISOString();
      expectValidation(await actOnRequest(t.app, org, request.id, 'approve', { expiresAt: past }), 'body.expiresAt');
      expect((await listed(org, `?fileId=${request.fileId}`))[0]?.status).toBe('pending');
    });

    it('deny with a reason: 200 denied', async () => {
      const request = await pendingRequest();
      const response = await actOnRequest(t.app, org, request.id, 'deny', { reason: 'not during the freeze' });
      expect(response.statusCode, response.body).toBe(200);
      const denied = response.json<AccessRequest>();
      expect(denied.status).toBe('denied');
      expect(denied.decisionReason).toBe('not during the freeze');
      expect(denied.processedAt).toMatch(ISO);
      expectValidation(await actOnRequest(t.app, org, (await pendingRequest()).id, 'deny', { reason: 'r'.repeat(2001) }), 'body.reason');
    });

    it('revoke by the owner: 200 revoked, and the consultant can no longer download', async () => {
      const { org: owner, con: consultant, request } = await grantedPair(t.app, { org, con: otherCon });
      const response = await actOnRequest(t.app, owner, request.id, 'revoke', {});
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json<AccessRequest>().status).toBe('revoked');
      expectProblem(await downloadRaw(t.app, consultant, request.id, consultant.password), 403, 'ACCESS_NOT_APPROVED');
    });

    it('approve, deny and revoke accept a POST without a body (their body fields are all optional)', async () => {
      const a = await pendingRequest();
      const approved = await actOnRequest(t.app, org, a.id, 'approve');
      expect(approved.statusCode, approved.body).toBe(200);
      const revoked = await actOnRequest(t.app, org, a.id, 'revoke');
      expect(revoked.statusCode, revoked.body).toBe(200);
      const denied = await actOnRequest(t.app, org, (await pendingRequest()).id, 'deny');
      expect(denied.statusCode, denied.body).toBe(200);
    });

    it('answers 409 CONFLICT for state changes the current status does not allow', async () => {
      const denied = await pendingRequest();
      expect((await actOnRequest(t.app, org, denied.id, 'deny', {})).statusCode).toBe(200);
      expectProblem(await actOnRequest(t.app, org, denied.id, 'approve', {}), 409, 'CONFLICT');
      expectProblem(await actOnRequest(t.app, org, denied.id, 'deny', {}), 409, 'CONFLICT');

      const approved = await pendingRequest();
      await approve(t.app, org, approved.id);
      expectProblem(await actOnRequest(t.app, org, approved.id, 'approve', {}), 409, 'CONFLICT');
      expectProblem(await actOnRequest(t.app, org, approved.id, 'deny', {}), 409, 'CONFLICT');

      expect((await actOnRequest(t.app, org, approved.id, 'revoke', {})).statusCode).toBe(200);
      expectProblem(await actOnRequest(t.app, org, approved.id, 'revoke', {}), 409, 'CONFLICT');
      expectProblem(await actOnRequest(t.app, org, approved.id, 'approve', {}), 409, 'CONFLICT');
      expectProblem(await actOnRequest(t.app, org, approved.id, 'deny', {}), 409, 'CONFLICT');

      // The failed attempts changed nothing.
      const statuses = new Map((await listed(org, '?limit=200')).map((r) => [r.id, r.status]));
      expect(statuses.get(denied.id)).toBe('denied');
      expect(statuses.get(approved.id)).toBe('revoked');
    });

    it('authorization: 401 anonymously, 403 for the consultant, 404 for another organization or consultant', async () => {
      const request = await pendingRequest(undefined, con);
      for (const action of ['approve', 'deny', 'revoke'] as const) {
        expectProblem(await actOnRequest(t.app, null, request.id, action, {}), 401, 'UNAUTHORIZED');
        expectProblem(await actOnRequest(t.app, con, request.id, action, {}), 403, 'FORBIDDEN');
        expectProblem(await actOnRequest(t.app, otherOrg, request.id, action, {}), 404, 'NOT_FOUND');
        expectProblem(await actOnRequest(t.app, otherCon, request.id, action, {}), 404, 'NOT_FOUND');
        expectProblem(await actOnRequest(t.app, org, UNKNOWN_ID, action, {}), 404, 'NOT_FOUND');
        expectValidation(await actOnRequest(t.app, org, 'bad.id', action, {}), 'params.id');
      }
      expect((await listed(org, `?fileId=${request.fileId}`))[0]?.status).toBe('pending');
    });
  });

  describe('POST /access-requests/{id}/download', () => {
    it('answers 200 with the decrypted bytes and the file headers; downloadCount goes up', async () => {
      const data = randomBytes(90_000);
      const { org: owner, con: consultant, request, file } = await grantedPair(t.app, { data, approveBody: { maxDownloads: 5 }, org, con });
      const response = await downloadRaw(t.app, consultant, request.id, consultant.password);
      expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
      expect(Buffer.compare(response.rawPayload, data)).toBe(0);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.headers['content-length']).toBe(String(data.length));
      expect(String(response.headers['content-disposition'])).toMatch(/^attachment;/);
      expect(String(response.headers['content-disposition'])).toContain(file.filename);
      const seen = (await listed(owner, `?fileId=${file.id}`)).find((r) => r.id === request.id);
      expect(seen?.downloadCount).toBe(1);
    });

    it('a pending or denied request: 403 ACCESS_NOT_APPROVED', async () => {
      const pending = await pendingRequest();
      expectProblem(await downloadRaw(t.app, con, pending.id, con.password), 403, 'ACCESS_NOT_APPROVED');
      expect((await actOnRequest(t.app, org, pending.id, 'deny', {})).statusCode).toBe(200);
      expectProblem(await downloadRaw(t.app, con, pending.id, con.password), 403, 'ACCESS_NOT_APPROVED');
    });

    it('a wrong password: 401 WRONG_PASSWORD, and it uses up no download', async () => {
      const { con: consultant, request, data } = await grantedPair(t.app, { approveBody: { maxDownloads: 1 }, org, con });
      expectProblem(await downloadRaw(t.app, consultant, request.id, 'not my password'), 401, 'WRONG_PASSWORD');
      const ok = await downloadRaw(t.app, consultant, request.id, consultant.password);
      expect(ok.statusCode, ok.body.slice(0, 300)).toBe(200);
      expect(Buffer.compare(ok.rawPayload, data)).toBe(0);
    });

    it('the limit used up: 403 DOWNLOAD_LIMIT_REACHED', async () => {
      const { con: consultant, request } = await grantedPair(t.app, { approveBody: { maxDownloads: 2 }, org, con });
      for (let i = 0; i < 2; i++) expect((await downloadRaw(t.app, consultant, request.id, consultant.password)).statusCode).toBe(200);
      expectProblem(await downloadRaw(t.app, consultant, request.id, consultant.password), 403, 'DOWNLOAD_LIMIT_REACHED');
    });

    it('an expired grant: 403 GRANT_EXPIRED; it reads as expired in lists', async () => {
      const consultant = con;
      const file = await newFile();
      const request = await requestAccess(t.app, consultant, file.id);
      // Everything slow (key generation) is done; the grant lives two seconds.
      const expiresAt = new Date(Date.now() + 2_000);
      await approve(t.app, org, request.id, { expiresAt: expiresAt.toISOString() });
      await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 250);
      expectProblem(await downloadRaw(t.app, consultant, request.id, consultant.password), 403, 'GRANT_EXPIRED');
      expect((await listed(consultant, `?fileId=${file.id}`))[0]?.status).toBe('expired');
      expect((await listed(consultant, `?fileId=${file.id}&status=expired`)).map((r) => r.id)).toEqual([request.id]);
      const seen = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}`, headers: consultant.headers });
      expect(seen.json<FileMetadata>().myAccess).toBe('expired');
      expectProblem(await actOnRequest(t.app, org, request.id, 'approve', {}), 409, 'CONFLICT');
    });

    it('a lapsed grant nobody touched is listed under status=expired, not under approved', async () => {
      const file = await newFile();
      const request = await requestAccess(t.app, con, file.id);
      const expiresAt = new Date(Date.now() + 1_500);
      await approve(t.app, org, request.id, { expiresAt: expiresAt.toISOString() });
      await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 250);
      for (const who of [con, org]) {
        expect((await listed(who, `?fileId=${file.id}&status=expired`)).map((r) => r.id)).toEqual([request.id]);
        expect(await listed(who, `?fileId=${file.id}&status=approved`)).toEqual([]);
      }
    });

    it('two concurrent downloads racing for the last allowed one: exactly one 200', async () => {
      const { con: consultant, request } = await grantedPair(t.app, { approveBody: { maxDownloads: 2 }, org, con });
      expect((await downloadRaw(t.app, consultant, request.id, consultant.password)).statusCode).toBe(200);
      const results = await Promise.all([
        downloadRaw(t.app, consultant, request.id, consultant.password),
        downloadRaw(t.app, consultant, request.id, consultant.password),
      ]);
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 403]);
      expectProblem(results.find((r) => r.statusCode === 403)!, 403, 'DOWNLOAD_LIMIT_REACHED');
    });

    it('three concurrent downloads on a one-time grant: exactly one 200', async () => {
      const { con: consultant, request } = await grantedPair(t.app, { approveBody: { maxDownloads: 1 }, org, con });
      const results = await Promise.all(
        [0, 1, 2].map(() => downloadRaw(t.app, consultant, request.id, consultant.password)),
      );
      expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.statusCode !== 200)) expectProblem(r, 403, 'DOWNLOAD_LIMIT_REACHED');
    });

    it('authorization: 401 anonymously, 403 for the owner organization, 404 for others', async () => {
      const { con: consultant, request } = await grantedPair(t.app, { org, con });
      expectProblem(await downloadRaw(t.app, null, request.id, consultant.password), 401, 'UNAUTHORIZED');
      expectProblem(await downloadRaw(t.app, org, request.id, org.password), 403, 'FORBIDDEN');
      expectProblem(await downloadRaw(t.app, otherOrg, request.id, otherOrg.password), 404, 'NOT_FOUND');
      expectProblem(await downloadRaw(t.app, otherCon, request.id, otherCon.password), 404, 'NOT_FOUND');
      expectProblem(await downloadRaw(t.app, consultant, UNKNOWN_ID, consultant.password), 404, 'NOT_FOUND');
      // None of these used the grant up.
      expect((await downloadRaw(t.app, consultant, request.id, consultant.password)).statusCode).toBe(200);
    });

    it('validates the body', async () => {
      const { con: consultant, request } = await grantedPair(t.app, { org, con });
      const send = (payload: Record<string, unknown>) =>
        t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${request.id}/download`, headers: consultant.headers, payload });
      expectValidation(await send({}), 'body.password');
      expectValidation(await send({ password: '' }), 'body.password');
      expectValidation(await send({ password: consultant.password, asAdmin: true }), 'body.asAdmin');
    });
  });
});
