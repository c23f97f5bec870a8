import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, multipartBody, signUp, type TestApp } from '../helpers/app.ts';

describe('smoke: upload, request, approve, download', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.cleanup());

  it('runs the whole flow', async () => {
    const org = await signUp(t.app, 'organization');
    const con = await signUp(t.app, 'consultant');
    const data = randomBytes(200_000);
    const body = multipartBody([{ name: 'description', value: 'hello' }, { name: 'file', filename: 'a.bin', data }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload });
    expect(up.statusCode, up.body).toBe(201);
    const file = up.json();
    const req = await t.app.inject({ method: 'POST', url: `/api/v1/files/${file.id}/access-requests`, headers: con.headers, payload: { reason: 'audit' } });
    expect(req.statusCode, req.body).toBe(201);
    const ap = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${req.json().id}/approve`, headers: org.headers, payload: { maxDownloads: 1 } });
    expect(ap.statusCode, ap.body).toBe(200);
    const dl = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${req.json().id}/download`, headers: con.headers, payload: { password: con.password } });
    expect(dl.statusCode, dl.body.slice(0, 200)).toBe(200);
    expect(Buffer.compare(dl.rawPayload, data)).toBe(0);
    const own = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: { ...org.headers, range: 'bytes=70000-140000' } });
    expect(own.statusCode).toBe(206);
    expect(Buffer.compare(own.rawPayload, data.subarray(70000, 140001))).toBe(0);
    const again = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${req.json().id}/download`, headers: con.headers, payload: { password: con.password } });
    expect(again.statusCode).toBe(403);
    expect(again.json().code).toBe('DOWNLOAD_LIMIT_REACHED');
  });
});
