import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { openDb } from '../helpers/admin.ts';
import { approve, downloadRaw, expectValidation, newUser, requestAccess, uploadFile } from '../helpers/fixtures.ts';
import { startSmtpServer, type SmtpTestServer } from '../helpers/smtp.ts';
import { until } from './helpers.ts';

const SPA = 'http://spa.example.test';
const CONTENT_CANARY = 'file-content-canary-d41d8cd98f';
const REASON_CANARY = 'request-reason-canary-0cc175b9';

const putSettings = (t: TestApp, session: Session, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'PUT', url: '/api/v1/users/me/notification-settings', headers: session.headers, payload });
const verify = (t: TestApp, session: Session, token: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/users/me/notification-settings/verify', headers: session.headers, payload: { token } });
const tokenIn = (text: string) => /\/verify-email#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];

describe('notification emails over a real SMTP server', () => {
  let smtp: SmtpTestServer;
  let t: TestApp;
  let db: PrismaClient;
  let org: Session, con: Session, other: Session;
  const tokens: string[] = [];

  /** Sets an address and confirms it through the emailed link, as a person would. */
  async function verifiedAddress(session: Session, email: string, events: string[]) {
    expect((await putSettings(t, session, { email, events })).json()).toMatchObject({ email, emailVerified: false, emailEnabled: true });
    const mail = await until(async () => smtp.to(email).find((m) => /confirm/i.test(m.subject)));
    expect(mail.to).toEqual([email]);
    const token = tokenIn(mail.text)!;
    expect(mail.text).toContain(`${SPA}/verify-email#token=${token}`);
    tokens.push(token);
    const response = await verify(t, session, token);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ emailVerified: true });
    return token;
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await buildTestApp({
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: SPA,
        EMAIL_FROM: 'SFE <no-reply@spa.example.test>',
        EMAIL_SEND_INTERVAL_MS: '50',
        EMAIL_RETRY_BASE_MS: '100',
        SMTP_TIMEOUT_MS: '2000',
        NOTIFY_EXPIRY_CHECK_SECONDS: '0',
      },
    });
    db = openDb(t);
    org = await newUser(t.app, 'organization');
    con = await newUser(t.app, 'consultant');
    other = await newUser(t.app, 'consultant');
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
    await smtp.stop();
  });

  it('nothing is emailed before the address is verified; afterwards only the chosen kinds, to the right person', async () => {
    const file = await uploadFile(t.app, org, { data: Buffer.from(CONTENT_CANARY), filename: 'ledger.csv' });
    expect((await putSettings(t, org, { email: 'org@example.test', events: ['access_requested'] })).statusCode).toBe(200);
    const verification = await until(async () => smtp.to('org@example.test').find((m) => /confirm/i.test(m.subject)));
    const token = tokenIn(verification.text)!;
    tokens.push(token);

    // Unverified: the notice is in-app only.
    await requestAccess(t.app, other, file.id, REASON_CANARY);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(smtp.to('org@example.test')).toHaveLength(1);
    expect(await db.emailOutbox.count({ where: { userId: org.id, subject: { not: verification.subject } } })).toBe(0);

    // Someone else's token, a wrong one, then the right one (single use).
    expectValidation(await verify(t, other, token), 'body.token');
    expectValidation(await verify(t, org, `${token.slice(0, -2)}xx`), 'body.token');
    expect((await verify(t, org, token)).json()).toMatchObject({ email: 'org@example.test', emailVerified: true });
    expectValidation(await verify(t, org, token), 'body.token');

    await verifiedAddress(con, 'con@example.test', ['access_granted', 'access_requested']);
    await verifiedAddress(other, 'other@example.test', ['access_requested', 'access_granted', 'access_denied', 'file_downloaded']);

    const request = await requestAccess(t.app, con, file.id, REASON_CANARY);
    const toOrg = await until(async () => smtp.to('org@example.test').find((m) => /New access request/.test(m.subject)));
    expect(toOrg.to).toEqual(['org@example.test']);
    expect(toOrg.text).toContain('ledger.csv');
    expect(toOrg.text).toContain(con.username);
    expect(toOrg.text).toContain(`${SPA}/notifications`);

    await approve(t.app, org, request.id);
    const toCon = await until(async () => smtp.to('con@example.test').find((m) => /Access granted/.test(m.subject)));
    expect(toCon.to).toEqual(['con@example.test']);
    // The consultant chose access_requested too, but requests on other people's files are never its notices.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to('con@example.test').map((m) => m.subject).sort()).toEqual(['SFE: Access granted', 'SFE: confirm your email address']);
    expect(smtp.to('other@example.test').map((m) => m.subject)).toEqual(['SFE: confirm your email address']);
    for (const mail of smtp.received) expect(mail.from).toBe('no-reply@spa.example.test');
  });

  it('changing the address resets verification and voids the old link', async () => {
    const oldToken = await verifiedAddress(org, 'org2@example.test', ['access_requested']);
    const changed = await putSettings(t, org, { email: 'org3@example.test', events: ['access_requested'] });
    expect(changed.json()).toMatchObject({ email: 'org3@example.test', emailVerified: false });
    expectValidation(await verify(t, org, oldToken), 'body.token');
    const mail = await until(async () => smtp.to('org3@example.test').find((m) => /confirm/i.test(m.subject)));
    tokens.push(tokenIn(mail.text)!);
    // Same address again: still unverified, the settings keep the chosen kinds.
    expect((await putSettings(t, org, { email: 'org3@example.test', events: [] })).json()).toMatchObject({ emailVerified: false, events: [] });
  });

  it('an email waits out an SMTP outage: attempts and the error are recorded, then it is delivered', async () => {
    const org2 = await newUser(t.app, 'organization');
    const shared = await uploadFile(t.app, org2, { data: Buffer.from(CONTENT_CANARY), filename: 'outage.txt' });
    const pending = await requestAccess(t.app, con, shared.id);
    await smtp.stop();
    const started = Date.now();
    await approve(t.app, org2, pending.id);
    expect(Date.now() - started).toBeLessThan(2000);
    const row = await until(async () => {
      const rows = await db.emailOutbox.findMany({ where: { userId: con.id, status: 'pending', attempts: { gte: 2 } } });
      return rows[0];
    });
    expect(row.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(row.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() - 5000);
    await smtp.start();
    const mail = await until(async () => smtp.to('con@example.test').find((m) => m.text.includes('outage.txt')), 15_000);
    expect(mail.subject).toBe('SFE: Access granted');
    const sent = await db.emailOutbox.findUniqueOrThrow({ where: { id: row.id } });
    expect(sent.status).toBe('sent');
    expect(sent.attempts).toBeGreaterThanOrEqual(2);
    expect(sent.body).toBe(''); // delivered: nothing of it is kept
  });

  it('downloads email the owner once per batch', async () => {
    const org3 = await newUser(t.app, 'organization');
    await verifiedAddress(org3, 'org-downloads@example.test', ['file_downloaded']);
    const file = await uploadFile(t.app, org3, { data: Buffer.from(CONTENT_CANARY), filename: 'batch.txt' });
    const grant = await approve(t.app, org3, (await requestAccess(t.app, other, file.id)).id, { maxDownloads: 5 });
    for (let i = 0; i < 3; i++) expect((await downloadRaw(t.app, other, grant.id, other.password)).statusCode).toBe(200);
    await until(async () => smtp.to('org-downloads@example.test').find((m) => /downloaded/.test(m.subject)));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(smtp.to('org-downloads@example.test').filter((m) => /downloaded/.test(m.subject))).toHaveLength(1);
  });

  it('no message carries a password, file contents, a reason, an API token, or another person\'s link', async () => {
    expect(smtp.received.length).toBeGreaterThan(5);
    const secrets = [org.password, con.password, other.password, CONTENT_CANARY, REASON_CANARY];
    for (const session of [org, con, other]) secrets.push(session.accessToken, session.refreshToken);
    for (const mail of smtp.received) {
      for (const secret of secrets) expect(mail.raw, mail.subject).not.toContain(secret);
      for (const token of tokens) {
        if (mail.raw.includes(token)) expect(/confirm/i.test(mail.subject) && tokenIn(mail.text) === token, mail.subject).toBe(true);
      }
      expect(mail.raw).not.toMatch(/BEGIN (RSA |ENCRYPTED )?PRIVATE KEY/);
    }
    // Only hashes of verification tokens are stored.
    const settings = await db.notificationSetting.findMany();
    for (const token of tokens) expect(JSON.stringify(settings)).not.toContain(token);
  });
});

describe('an unreachable SMTP server', () => {
  let t: TestApp;
  let db: PrismaClient;
  const sockets = new Set<Socket>();
  // Accepts connections and never says a word: the worst kind of mail server.
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });

  beforeAll(async () => {
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = silent.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    t = await buildTestApp({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        PUBLIC_URL: SPA,
        EMAIL_SEND_INTERVAL_MS: '50',
        EMAIL_RETRY_BASE_MS: '50',
        EMAIL_MAX_ATTEMPTS: '2',
        SMTP_TIMEOUT_MS: '1500',
        NOTIFY_EXPIRY_CHECK_SECONDS: '0',
      },
    });
    db = openDb(t);
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  it('neither slows nor fails requests, and the email is given up after its attempts', async () => {
    const org = await newUser(t.app, 'organization');
    const con = await newUser(t.app, 'consultant');
    expect((await putSettings(t, org, { email: 'org@example.test', events: ['access_requested'] })).statusCode).toBe(200);
    // Verified directly: no link can arrive through this server.
    await db.notificationSetting.update({ where: { userId: org.id }, data: { emailVerifiedAt: new Date() } });
    const file = await uploadFile(t.app, org, { data: Buffer.from('x'), filename: 'x.txt' });
    const started = Date.now();
    const response = await t.app.inject({ method: 'POST', url: `/api/v1/files/${file.id}/access-requests`, headers: con.headers, payload: { reason: 'r' } });
    const took = Date.now() - started;
    expect(response.statusCode).toBe(201);
    expect(took).toBeLessThan(1000);
    const failed = await until(
      async () => (await db.emailOutbox.findMany({ where: { userId: org.id, status: 'failed', subject: 'SFE: New access request' } }))[0],
      20_000,
    );
    expect(failed.attempts).toBe(2);
    expect(failed.lastError).toMatch(/timeout|ETIMEDOUT|Greeting/i);
  });
});
