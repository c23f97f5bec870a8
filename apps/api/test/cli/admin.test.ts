import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sfe as runSfe } from '../helpers/cli.ts';
import { buildTestApp, login, makeDataDir, multipartBody, signUp, type Session, type TestApp } from '../helpers/app.ts';

const ADMIN_PASSWORD = 'the admin pass phrase';

const sfe = async (args: string[], dataDir: string, stdin: string) => {
  const result = await runSfe(args, { DATA_DIR: dataDir }, stdin);
  return { ...result, code: result.code ?? 1 };
};

describe('sfe admin create, and what an admin may do over the API', () => {
  let dataDir: string;
  let t: TestApp;
  let admin: Session;
  let org: Session;
  let otherOrg: Session;
  let con: Session;
  let fileId: string;
  let requestId: string;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const created = await sfe(['admin', 'create', '--username', 'root.admin', '--password-stdin'], dataDir, `${ADMIN_PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ created: { username: 'root.admin', role: 'admin' } });
    t = await buildTestApp({ dataDir });
    admin = await login(t.app, 'root.admin', ADMIN_PASSWORD);
    org = await signUp(t.app, 'organization');
    otherOrg = await signUp(t.app, 'organization');
    con = await signUp(t.app, 'consultant');
    const body = multipartBody([{ name: 'file', filename: 'board.pdf', contentType: 'application/pdf', data: randomBytes(1000) }]);
    fileId = (await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload })).json().id;
    requestId = (
      await t.app.inject({ method: 'POST', url: `/api/v1/files/${fileId}/access-requests`, headers: con.headers, payload: { reason: 'review' } })
    ).json().id;
  });
  afterAll(async () => t.cleanup());

  it('refuses bad input without echoing the password, and a taken username', async () => {
    const short = await sfe(['admin', 'create', '--username', 'second', '--password-stdin'], dataDir, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/password must be 12 to 1024 characters/);
    expect(short.stderr + short.stdout).not.toContain('short\n');
    const taken = await sfe(['admin', 'create', '--username', 'root.admin', '--password-stdin'], dataDir, `${ADMIN_PASSWORD}\n`);
    expect(taken.code).toBe(3); // refused by a precondition (docs/cli.md)
    expect(taken.stderr).toMatch(/username is taken/);
    expect(taken.stderr + taken.stdout).not.toContain(ADMIN_PASSWORD);
    const usage = await sfe(['admin', 'create'], dataDir, '');
    expect(usage.code).toBe(2);
  });

  it('admins cannot be registered through the API', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username: 'sneaky', password: 'a long enough password', role: 'admin' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
  });

  it('an admin sees every file and every request', async () => {
    const files = await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: admin.headers });
    expect(files.json().items.map((f: { id: string }) => f.id)).toContain(fileId);
    const otherOrgFiles = await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: otherOrg.headers });
    expect(otherOrgFiles.json().items).toEqual([]);
    const meta = await t.app.inject({ method: 'GET', url: `/api/v1/files/${fileId}`, headers: admin.headers });
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).not.toHaveProperty('myAccess');
    const requests = await t.app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: admin.headers });
    expect(requests.json().items.map((r: { id: string }) => r.id)).toContain(requestId);
  });

  it('an admin may revoke a grant but not approve, upload or read plaintext', async () => {
    const approveByAdmin = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: admin.headers, payload: {} });
    expect(approveByAdmin.statusCode).toBe(403);
    expect(approveByAdmin.json().code).toBe('FORBIDDEN');
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: org.headers, payload: {} })).statusCode).toBe(200);

    const content = await t.app.inject({ method: 'GET', url: `/api/v1/files/${fileId}/content`, headers: admin.headers });
    expect(content.statusCode).toBe(403);
    const body = multipartBody([{ name: 'file', filename: 'x.bin', data: Buffer.from('x') }]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...admin.headers, ...body.headers }, payload: body.payload });
    expect(upload.statusCode).toBe(403);

    const revoked = await t.app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/revoke`, headers: admin.headers });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id: requestId, status: 'revoked' });
    const download = await t.app.inject({
      method: 'POST',
      url: `/api/v1/access-requests/${requestId}/download`,
      headers: con.headers,
      payload: { password: con.password },
    });
    expect(download.statusCode).toBe(403);
    expect(download.json().code).toBe('ACCESS_NOT_APPROVED');
  });
});
