import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, newAdmin, openDb } from '../helpers/admin.ts';
import {
  actOnRequest,
  approve,
  downloadRaw,
  expectProblem,
  expectValidation,
  loginRaw,
  newUser,
  requestAccess,
  uploadFile,
} from '../helpers/fixtures.ts';
import { inbox, kinds, until } from './helpers.ts';

const REASON_CANARY = 'reason-canary-7f3a';
const DENY_CANARY = 'deny-canary-91bc';

describe('notifications: each event reaches exactly the right user', () => {
  let t: TestApp;
  let db: PrismaClient;
  let orgA: Session, orgB: Session, conA: Session, conB: Session, admin: Session, admin2: Session;
  const everyone = () => ({ orgA, orgB, conA, conB, admin, admin2 });

  /** Unread notices per person since `before` (counts of each kind). */
  async function snapshot(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const [name, session] of Object.entries(everyone())) out[name] = kinds(await inbox(t.app, session));
    return out;
  }
  /** Asserts that, compared with `before`, only `who` got the `kind` notices listed. */
  async function onlyNew(before: Record<string, string[]>, expected: Record<string, string[]>) {
    const after = await snapshot();
    for (const name of Object.keys(after)) {
      const added = [...after[name]!];
      for (const k of before[name]!) added.splice(added.indexOf(k), 1);
      expect(added.sort(), name).toEqual((expected[name] ?? []).sort());
    }
  }

  beforeAll(async () => {
    t = await buildTestApp({ env: { ALERT_FAILED_LOGINS_PER_ACCOUNT: '2', NOTIFY_EXPIRY_CHECK_SECONDS: '0' } });
    db = openDb(t);
    [orgA, orgB, conA, conB] = [
      await newUser(t.app, 'organization'),
      await newUser(t.app, 'organization'),
      await newUser(t.app, 'consultant'),
      await newUser(t.app, 'consultant'),
    ];
    admin = await newAdmin(t, db);
    admin2 = await newAdmin(t, db);
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
  });

  it('every notification route is in the OpenAPI document, with bearer security and closed bodies', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{ paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> } }>> }>();
    const routes: Array<[string, string, boolean]> = [
      ['get', '/api/v1/notifications', false],
      ['get', '/api/v1/notifications/unread-count', false],
      ['post', '/api/v1/notifications/{id}/read', true],
      ['post', '/api/v1/notifications/read-all', true],
      ['get', '/api/v1/users/me/notification-settings', false],
      ['put', '/api/v1/users/me/notification-settings', true],
      ['post', '/api/v1/users/me/notification-settings/verify', true],
    ];
    for (const [method, path, body] of routes) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation!.security?.length, `${method} ${path}`).toBeGreaterThan(0);
      if (body) expect(operation!.requestBody?.content['application/json']?.schema.additionalProperties, `${method} ${path}`).toBe(false);
    }
  });

  it('a new request tells the owner organization only, naming file and consultant but not the reason', async () => {
    const file = await uploadFile(t.app, orgA, { data: Buffer.from('a'), filename: 'budget-2027.xlsx' });
    const before = await snapshot();
    const request = await requestAccess(t.app, conA, file.id, `please ${REASON_CANARY}`);
    await onlyNew(before, { orgA: ['access_requested'] });
    const [notice] = (await inbox(t.app, orgA)).items;
    expect(notice).toMatchObject({ kind: 'access_requested', fileId: file.id, requestId: request.id, readAt: null, count: 1 });
    expect(notice!.message).toContain('budget-2027.xlsx');
    expect(notice!.message).toContain(conA.username);
    expect(notice!.message).not.toContain(REASON_CANARY);
  });

  it('approve, deny and revoke tell the consultant of that request only', async () => {
    const file = await uploadFile(t.app, orgA, { data: Buffer.from('b'), filename: 'plan.pdf' });
    const forA = await requestAccess(t.app, conA, file.id);
    const forB = await requestAccess(t.app, conB, file.id);

    let before = await snapshot();
    await approve(t.app, orgA, forA.id);
    await onlyNew(before, { conA: ['access_granted'] });

    before = await snapshot();
    expect((await actOnRequest(t.app, orgA, forB.id, 'deny', { reason: DENY_CANARY })).statusCode).toBe(200);
    await onlyNew(before, { conB: ['access_denied'] });
    const denied = (await inbox(t.app, conB)).items.find((n) => n.kind === 'access_denied')!;
    expect(denied.message).toContain('plan.pdf');
    expect(denied.message).not.toContain(DENY_CANARY);

    before = await snapshot();
    expect((await actOnRequest(t.app, orgA, forA.id, 'revoke')).statusCode).toBe(200);
    await onlyNew(before, { conA: ['access_revoked'] });
  });

  it('deleting a file tells each consultant whose request or grant it closed', async () => {
    const file = await uploadFile(t.app, orgA, { data: Buffer.from('d'), filename: 'deleted.doc' });
    const pending = await requestAccess(t.app, conA, file.id);
    await approve(t.app, orgA, (await requestAccess(t.app, conB, file.id)).id);
    const before = await snapshot();
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${file.id}`, headers: orgA.headers })).statusCode).toBe(204);
    await onlyNew(before, { conA: ['access_revoked'], conB: ['access_revoked'] });
    const told = (await inbox(t.app, conA)).items.find((n) => n.requestId === pending.id && n.kind === 'access_revoked')!;
    expect(told.message).toMatch(/deleted\.doc.*deleted the file/);
  });

  it('a refused or conflicting change tells nobody', async () => {
    const file = await uploadFile(t.app, orgA, { data: Buffer.from('c'), filename: 'c.txt' });
    const request = await requestAccess(t.app, conA, file.id);
    await approve(t.app, orgA, request.id);
    const before = await snapshot();
    expect((await actOnRequest(t.app, orgB, request.id, 'revoke')).statusCode).toBe(404);
    expect((await actOnRequest(t.app, orgA, request.id, 'deny', {})).statusCode).toBe(409);
    await onlyNew(before, {});
  });

  it('downloads are batched: one notice per file and hour for the owner, counting them', async () => {
    const file = await uploadFile(t.app, orgA, { data: Buffer.from('downloaded bytes'), filename: 'batched.csv' });
    const request = await approve(t.app, orgA, (await requestAccess(t.app, conB, file.id)).id, { maxDownloads: 10 });
    const before = await snapshot();
    for (let i = 0; i < 3; i++) expect((await downloadRaw(t.app, conB, request.id, conB.password)).statusCode).toBe(200);
    // A download counts once its last byte went out (after the response), so poll briefly.
    const downloads = async () => (await inbox(t.app, orgA)).items.filter((n) => n.kind === 'file_downloaded' && n.fileId === file.id);
    const notice = (await until(async () => (await downloads()).find((n) => n.count === 3)))!;
    await onlyNew(before, { orgA: ['file_downloaded'] });
    expect(notice.count).toBe(3);
    expect(notice.message).toMatch(/batched\.csv.*3 times/);
    expect(notice.message).not.toContain('downloaded bytes');
    // Read, then another download: the same notice counts it and is unread again.
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/notifications/${notice.id}/read`, headers: orgA.headers })).statusCode).toBe(200);
    expect((await downloadRaw(t.app, conB, request.id, conB.password)).statusCode).toBe(200);
    await until(async () => (await downloads()).find((n) => n.count === 4));
    const again = await downloads();
    expect(again).toHaveLength(1);
    expect(again[0], JSON.stringify(again[0])).toMatchObject({ id: notice.id, count: 4, readAt: null });
    // A failed download (wrong password) is no download.
    await downloadRaw(t.app, conB, request.id, 'not the password at all');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await inbox(t.app, orgA)).items.find((n) => n.id === notice.id)!.count).toBe(4);
  });

  it('each user reads and marks only their own notices', async () => {
    const own = (await inbox(t.app, orgA)).items[0]!;
    for (const other of [orgB, conA, admin]) {
      expectProblem(await t.app.inject({ method: 'POST', url: `/api/v1/notifications/${own.id}/read`, headers: other.headers }), 404, 'NOT_FOUND');
    }
    expect((await inbox(t.app, orgA)).items[0]!.readAt).toBeNull();
    const unreadBefore = (await inbox(t.app, orgA)).unread;
    const read = await t.app.inject({ method: 'POST', url: `/api/v1/notifications/${own.id}/read`, headers: orgA.headers });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: own.id, readAt: expect.any(String) });
    const count = await t.app.inject({ method: 'GET', url: '/api/v1/notifications/unread-count', headers: orgA.headers });
    expect(count.json()).toEqual({ unread: unreadBefore - 1 });
    expect((await inbox(t.app, orgA, '?unread=true')).items.map((n) => n.id)).not.toContain(own.id);
    expect((await inbox(t.app, orgA, '?unread=false')).items.map((n) => n.id)).toContain(own.id);
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/notifications/00000000-0000-4000-8000-000000000000/read', headers: orgA.headers }), 404);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/notifications' }), 401);

    // Mark all: the caller's only.
    const conAUnread = (await inbox(t.app, conA)).unread;
    expect(conAUnread).toBeGreaterThan(0);
    const all = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read-all', headers: orgA.headers });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ unread: 0 });
    expect((await inbox(t.app, conA)).unread).toBe(conAUnread);
  });

  it('lists page with cursors of the caller only', async () => {
    const first = await inbox(t.app, orgA, '?limit=1');
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await inbox(t.app, orgA, `?limit=1&cursor=${first.nextCursor}`);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
    expectValidation(await t.app.inject({ method: 'GET', url: `/api/v1/notifications?cursor=${first.nextCursor}`, headers: conB.headers }), 'querystring.cursor');
    expectValidation(await t.app.inject({ method: 'GET', url: '/api/v1/notifications?limit=500', headers: orgA.headers }), 'querystring.limit');
  });

  it('an incident response tells the other party of every grant it revoked, and nobody else', async () => {
    const fileA = await uploadFile(t.app, orgA, { data: Buffer.from('inc-a'), filename: 'inc-a.txt' });
    const fileB = await uploadFile(t.app, orgB, { data: Buffer.from('inc-b'), filename: 'inc-b.txt' });
    const suspect = await newUser(t.app, 'consultant');
    await approve(t.app, orgA, (await requestAccess(t.app, suspect, fileA.id)).id);
    await requestAccess(t.app, suspect, fileB.id); // pending: revoked too
    const before = await snapshot();
    const response = await adminCall(t.app, admin, 'POST', `/users/${suspect.id}/incident`, {});
    expect(response.statusCode).toBe(200);
    await onlyNew(before, { orgA: ['incident'], orgB: ['incident'] });
    const told = (await inbox(t.app, orgB)).items.find((n) => n.kind === 'incident')!;
    expect(told).toMatchObject({ fileId: fileB.id });
    expect(told.message).toContain('inc-b.txt');
    expect(told.message).not.toContain('inc-a.txt');
  });

  it('a new alert tells every admin and nobody else, once', async () => {
    const victim = await newUser(t.app, 'consultant');
    const before = await snapshot();
    for (let i = 0; i < 3; i++) await loginRaw(t.app, victim.username, `wrong password ${i}`);
    await onlyNew(before, { admin: ['alert'], admin2: ['alert'] });
    const notice = (await inbox(t.app, admin)).items.find((n) => n.kind === 'alert')!;
    expect(notice.message).toMatch(/failed logins/);
  });

  it('settings: defaults, validation, and no email without SMTP_URL', async () => {
    const get = await t.app.inject({ method: 'GET', url: '/api/v1/users/me/notification-settings', headers: conB.headers });
    expect(get.json()).toEqual({ email: null, emailVerified: false, events: [], emailEnabled: false });
    const put = (payload: unknown) => t.app.inject({ method: 'PUT', url: '/api/v1/users/me/notification-settings', headers: conB.headers, payload: payload as object });
    expectValidation(await put({ email: 'not an address', events: [] }), 'body.email');
    expectValidation(await put({ email: 'a@b.co', events: ['access_granted', 'access_granted'] }), 'body.events');
    expectValidation(await put({ email: 'a@b.co', events: ['everything'] }), 'body.events.0');
    expectProblem(await put({ email: 'a@b.co', events: [], extra: true }), 400, 'VALIDATION_FAILED');
    expectProblem(await put({ events: [] }), 400, 'VALIDATION_FAILED');
    expectProblem(await put({ email: 'a@b.co', events: 'access_granted' }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.app.inject({ method: 'PUT', url: '/api/v1/users/me/notification-settings', payload: { email: null, events: [] } }), 401);
    const saved = await put({ email: 'consultant.b@example.org', events: ['access_granted', 'grant_expiring'] });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toEqual({ email: 'consultant.b@example.org', emailVerified: false, events: ['access_granted', 'grant_expiring'], emailEnabled: false });
    expect(await db.emailOutbox.count()).toBe(0);
    expectValidation(
      await t.app.inject({ method: 'POST', url: '/api/v1/users/me/notification-settings/verify', headers: conB.headers, payload: { token: 'x'.repeat(43) } }),
      'body.token',
    );
  });

  it('erasing a consultant keeps others\' notices but stops them naming it', async () => {
    const name = `erased.${Date.now().toString(36)}`;
    const con = await newUser(t.app, 'consultant', { username: name });
    const file = await uploadFile(t.app, orgB, { data: Buffer.from('n'), filename: 'named.txt' });
    const request = await requestAccess(t.app, con, file.id);
    const mention = async () => (await inbox(t.app, orgB)).items.find((n) => n.requestId === request.id && n.kind === 'access_requested')!;
    expect((await mention()).message).toContain(name);
    expect((await adminCall(t.app, admin, 'DELETE', `/users/${con.id}`)).statusCode).toBe(200);
    expect((await mention()).message).toMatch(/^Consultant \(erased account\) asked for access to your file "named\.txt"\.$/);
    const closed = (await inbox(t.app, orgB)).items.find((n) => n.requestId === request.id && n.kind === 'incident')!;
    expect(closed.message).toContain('a consultant whose account was erased');
    expect(JSON.stringify((await inbox(t.app, orgB)).items)).not.toContain(name);
  });

  it('erasure removes the notices and settings of the erased user', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const file = await uploadFile(t.app, org, { data: Buffer.from('e'), filename: 'e.txt' });
    await requestAccess(t.app, con, file.id);
    await t.app.inject({ method: 'PUT', url: '/api/v1/users/me/notification-settings', headers: org.headers, payload: { email: 'org@example.org', events: [] } });
    expect(await db.notification.count({ where: { userId: org.id } })).toBe(1);
    expect((await adminCall(t.app, admin, 'DELETE', `/users/${org.id}`)).statusCode).toBe(200);
    expect(await db.notification.count({ where: { userId: org.id } })).toBe(0);
    expect(await db.notificationSetting.count({ where: { userId: org.id } })).toBe(0);
    // The consultant heard its pending request was closed, without the erased organization named.
    const told = await until(async () => (await inbox(t.app, con)).items.find((n) => n.kind === 'incident'));
    expect(told.message).toContain('e.txt');
  });
});

describe('notifications: suspension and expiry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: { NOTIFY_EXPIRY_CHECK_SECONDS: '1', ALERT_UNUSUAL_ACCESS_MIN_EVENTS: '3', ALERT_UNUSUAL_ACCESS_FACTOR: '2' },
    });
  });
  afterAll(async () => t.cleanup());

  it('unusual access suspends the grants and tells their consultant only', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const other = await newUser(t.app, 'consultant');
    const file = await uploadFile(t.app, org, { data: Buffer.from('s'), filename: 'suspended.bin' });
    const request = await approve(t.app, org, (await requestAccess(t.app, con, file.id)).id, { maxDownloads: 10 });
    for (let i = 0; i < 3; i++) await downloadRaw(t.app, con, request.id, con.password);
    const list = await inbox(t.app, con);
    expect(list.items.filter((n) => n.kind === 'grant_suspended')).toHaveLength(1);
    expect(list.items.find((n) => n.kind === 'grant_suspended')!.message).toContain('suspended.bin');
    expect(list.items.find((n) => n.kind === 'grant_suspended')!.message).not.toMatch(/baseline|unwraps/);
    expect(kinds(await inbox(t.app, org))).toEqual(['access_requested', 'file_downloaded']);
    expect((await inbox(t.app, other)).items).toEqual([]);
  });

  it('a grant ending within 24 hours is told once; an expired one is closed and told', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    const other = await newUser(t.app, 'consultant');
    const soon = await uploadFile(t.app, org, { data: Buffer.from('x'), filename: 'soon.txt' });
    const later = await uploadFile(t.app, org, { data: Buffer.from('y'), filename: 'later.txt' });
    const lapsing = await uploadFile(t.app, org, { data: Buffer.from('z'), filename: 'lapsing.txt' });
    await approve(t.app, org, (await requestAccess(t.app, con, soon.id)).id, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await approve(t.app, org, (await requestAccess(t.app, con, later.id)).id, { expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    const lapsed = await approve(t.app, org, (await requestAccess(t.app, other, lapsing.id)).id, { expiresAt: new Date(Date.now() + 1500).toISOString() });

    const expiring = await until(async () => (await inbox(t.app, con)).items.find((n) => n.kind === 'grant_expiring'));
    expect(expiring).toMatchObject({ fileId: soon.id });
    const expired = await until(async () => (await inbox(t.app, other)).items.find((n) => n.kind === 'grant_expired'));
    expect(expired).toMatchObject({ fileId: lapsing.id, requestId: lapsed.id });
    // Several more runs: still one of each, and nothing for the grant ending in 3 days.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await inbox(t.app, con)).items.filter((n) => n.kind === 'grant_expiring')).toHaveLength(1);
    // The lapsing grant also ended within 24 hours: told that once, then that it expired.
    expect(kinds(await inbox(t.app, other))).toEqual(['access_granted', 'grant_expired', 'grant_expiring']);
    const shown = await t.app.inject({ method: 'GET', url: `/api/v1/access-requests?fileId=${lapsing.id}`, headers: org.headers });
    expect(shown.json().items[0].status).toBe('expired');
    expect(kinds(await inbox(t.app, org))).toEqual(['access_requested', 'access_requested', 'access_requested']);
  });
});
