import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertList, AccessRequest } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { approve, bearer, downloadRaw, expectProblem, freshIp, grantedPair, loginRaw, newUser, uploadFile, PASSWORD } from '../helpers/fixtures.ts';

const SECRET = randomBytes(32).toString('hex');

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('alert rules', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;
  let hook: Server;
  const deliveries: Delivery[] = [];
  let refuseNext = 1;

  beforeAll(async () => {
    // The webhook receiver: 127.0.0.1 only; it refuses the first delivery to exercise the retry.
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (refuseNext > 0) {
          refuseNext--;
          response.writeHead(500).end();
          return;
        }
        deliveries.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const { port } = hook.address() as AddressInfo;
    t = await buildTestApp({
      env: {
        ALERT_FAILED_LOGINS_PER_ACCOUNT: '3',
        ALERT_FAILED_LOGINS_PER_IP: '4',
        ALERT_UNAUTHORIZED_PER_IP: '5',
        ALERT_MASS_DOWNLOAD_COUNT: '3',
        ALERT_UNUSUAL_ACCESS_MIN_EVENTS: '3',
        ALERT_UNUSUAL_ACCESS_FACTOR: '2',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/sfe-alerts`,
        ALERT_WEBHOOK_SECRET: SECRET,
      },
    });
    prisma = openDb(t);
    admin = await newAdmin(t, prisma);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
    await new Promise((resolve) => hook.close(resolve));
  });

  const alerts = async (query = '') => (await adminCall(t.app, admin, 'GET', `/alerts?limit=200${query}`)).json<AlertList>().items;
  const alertFor = async (rule: string, subjectUserId: string | null) =>
    (await alerts()).filter((a) => a.rule === rule && (subjectUserId === null || a.subjectUserId === subjectUserId));

  it('failed_logins: raised for one account at the threshold, then de-duplicated with count and lastSeenAt bumped', async () => {
    const user = await newUser(t.app, 'organization');
    for (let i = 0; i < 2; i++) await loginRaw(t.app, user.username, `wrong password ${i}!`);
    expect(await alertFor('failed_logins', user.id)).toHaveLength(0);
    await loginRaw(t.app, user.username, 'wrong password 3!');
    const [raised] = await alertFor('failed_logins', user.id);
    expect(raised).toMatchObject({ severity: 'warning', count: 1, acknowledged: false, acknowledgedBy: null });
    await loginRaw(t.app, user.username, 'wrong password 4!');
    await loginRaw(t.app, user.username, 'wrong password 5!');
    const again = await alertFor('failed_logins', user.id);
    expect(again).toHaveLength(1);
    expect(again[0]?.count).toBe(3);
    expect((again[0]?.lastSeenAt ?? '') >= (raised?.lastSeenAt ?? '')).toBe(true);
    expect((await auditOf(prisma, 'alert_raised')).filter((r) => r.details.alertId === raised?.id)).toHaveLength(1);
  });

  it('failed_logins: raised for one client IP across accounts', async () => {
    const ip = freshIp();
    for (let i = 0; i < 4; i++) await loginRaw(t.app, `nobody-${i}-${Date.now()}`, 'some wrong password', ip);
    const byIp = (await alertFor('failed_logins', null)).filter((a) => a.message.includes(ip));
    expect(byIp).toHaveLength(1);
    expect(byIp[0]?.subjectUserId).toBeNull();
  });

  it('unauthorized_access: repeated 401/403/404 from one client', async () => {
    const ip = '10.200.0.7';
    for (let i = 0; i < 5; i++) {
      await t.app.inject({ method: 'GET', url: `/api/v1/files/00000000-0000-4000-8000-00000000000${i}`, remoteAddress: ip });
    }
    const raised = (await alertFor('unauthorized_access', null)).filter((a) => a.message.includes(ip));
    expect(raised).toHaveLength(1);
  });

  it('mass_download: many decrypted files from one account', async () => {
    const org = await newUser(t.app, 'organization');
    const file = await uploadFile(t.app, org, { data: Buffer.from('bulk') });
    for (let i = 0; i < 3; i++) {
      const response = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: org.headers });
      expect(response.statusCode).toBe(200);
    }
    await expect.poll(async () => (await alertFor('mass_download', org.id)).length).toBe(1);
    expect((await alertFor('mass_download', org.id))[0]?.severity).toBe('critical');
  });

  it('unusual_access: a burst of unwraps above the baseline suspends the grants until the owner approves again', async () => {
    const { org, con, request } = await grantedPair(t.app);
    for (let i = 0; i < 3; i++) expect((await downloadRaw(t.app, con, request.id, PASSWORD)).statusCode).toBe(200);
    const [raised] = await alertFor('unusual_access', con.id);
    expect(raised).toMatchObject({ severity: 'critical', count: 1 });

    const blocked = await downloadRaw(t.app, con, request.id, PASSWORD);
    expectProblem(blocked, 403, 'ACCESS_NOT_APPROVED');
    expect(blocked.json<{ detail: string }>().detail).toMatch(/suspended/);
    for (const who of [con, org]) {
      const listed = (await t.app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: bearer(who.accessToken) })).json<{ items: AccessRequest[] }>();
      const shown = listed.items.find((r) => r.id === request.id);
      expect(shown).toMatchObject({ status: 'suspended', decisionReason: expect.stringMatching(/unusual access/) });
    }
    expect((await auditOf(prisma, 'access_suspended')).some((r) => r.details.requestId === request.id)).toBe(true);

    const reapproved = await approve(t.app, org, request.id);
    expect(reapproved.status).toBe('approved');
    expect((await downloadRaw(t.app, con, request.id, PASSWORD)).statusCode).toBe(200);
  });

  it('deleting the file of a suspended grant revokes it and destroys its wrapped key', async () => {
    const { org, con, request } = await grantedPair(t.app);
    for (let i = 0; i < 3; i++) expect((await downloadRaw(t.app, con, request.id, PASSWORD)).statusCode).toBe(200);
    expect((await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe('suspended');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${request.fileId}`, headers: bearer(org.accessToken) })).statusCode).toBe(204);
    expect(await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({ status: 'revoked', wrappedSymmetricKey: null });
  });

  it('unusual_access: an unwrap from a new address is a warning that suspends nothing', async () => {
    const { con, request } = await grantedPair(t.app);
    expect((await downloadRaw(t.app, con, request.id, PASSWORD)).statusCode).toBe(200);
    expect(await alertFor('unusual_access', con.id)).toHaveLength(0);
    const moved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/access-requests/${request.id}/download`,
      headers: con.headers,
      remoteAddress: '10.77.0.1',
      payload: { password: PASSWORD },
    });
    expect(moved.statusCode).toBe(200);
    const [raised] = await alertFor('unusual_access', con.id);
    expect(raised).toMatchObject({ severity: 'warning', message: expect.stringContaining('10.77.0.1') });
    expect((await prisma.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe('approved');
  });

  it('acknowledges an alert and filters on it', async () => {
    const [first] = await alerts('&acknowledged=false');
    if (!first) throw new Error('expected an alert');
    const acked = await adminCall(t.app, admin, 'POST', `/alerts/${first.id}/ack`);
    expect(acked.statusCode, acked.body).toBe(200);
    expect(acked.json<Alert>()).toMatchObject({ id: first.id, acknowledged: true, acknowledgedBy: admin.id });
    expect((await alerts('&acknowledged=true')).map((a) => a.id)).toContain(first.id);
    expect((await alerts('&acknowledged=false')).map((a) => a.id)).not.toContain(first.id);
    expectProblem(await adminCall(t.app, admin, 'POST', '/alerts/00000000-0000-4000-8000-000000000000/ack'), 404, 'NOT_FOUND');
  });

  it('counts alerts by rule in /metrics', async () => {
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/sfe_alerts_raised_total\{rule="failed_logins"\} [1-9]/);
    expect(metrics).toMatch(/sfe_alerts_raised_total\{rule="unusual_access"\} 3/);
    expect(metrics).toMatch(/sfe_kek_uses_total\{key_id="kek_[0-9a-f]+",operation="key_wrapped"\} [1-9]/);
    expect(metrics).toMatch(/sfe_crypto_operations_total\{operation="login_failed",success="false"\} [1-9]/);
    expect(metrics).toContain('sfe_account_lockouts_total');
  });

  it('delivers each raised alert to the webhook, HMAC-signed and timestamped, after a retry', async () => {
    const total = (await alerts()).length;
    await expect.poll(() => deliveries.length, { timeout: 10_000 }).toBe(total);
    for (const delivery of deliveries) {
      const timestamp = String(delivery.headers['x-sfe-timestamp']);
      expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(60);
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
      expect(delivery.headers['x-sfe-signature']).toBe(expected);
      expect(JSON.parse(delivery.body)).toMatchObject({ event: 'alert_raised', alert: { rule: expect.any(String) } });
    }
  });
});
