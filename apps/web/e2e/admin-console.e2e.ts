import { randomBytes, verify as verifySignature } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createApiClient } from '@sfe/api-client';
import type { ErasureCertificate } from '@sfe/contract';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from './helpers/admin.ts';
import { docsScreenshot, horizontalOverflow, launchBrowser, newPerson, row, signIn } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

// The admin console against the real API: an admin made by `sfe admin create` runs an
// incident on a consultant with an approved grant while that consultant is signed in.
const KEYS = { MASTER_KEY: randomBytes(32).toString('hex') };
const ADMIN = { username: 'chief.admin', password: 'chief admin pass phrase' };
const ORG = { username: 'owner.org', password: 'owner organization phrase' };
const VICTIM = { username: 'victim.consultant', password: 'victim consultant phrase' };
const GUESSED = { username: 'guessed.consultant', password: 'guessed consultant phrase' };
const LEAVER = { username: 'leaving.org', password: 'leaving organization phrase' };
const FILENAME = 'payroll-2026.csv';

let server: RunningServer;
let browser: Browser;
let victimId = '';
const contexts: BrowserContext[] = [];

async function person(): Promise<Page> {
  const { context, page } = await newPerson(browser, server.baseUrl);
  contexts.push(context);
  return page;
}

/** Both widths of one screen into docs/screenshots/, with nothing off-screen at phone width. */
async function screenshots(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 860 });
  await docsScreenshot(page, `admin-${name}-1280`, options);
  await page.setViewportSize({ width: 390, height: 844 });
  // Polled: the chart redraws for the new width on a resize observer callback.
  await expect.poll(() => horizontalOverflow(page), { message: `${name} at 390 px` }).toBe(0);
  await docsScreenshot(page, `admin-${name}-390`, options);
  await page.setViewportSize({ width: 1280, height: 860 });
}

beforeAll(async () => {
  await buildSpa();
  server = await startServer(KEYS);
  browser = await launchBrowser();
  expect(await createAdmin(server.dataDir, ADMIN, KEYS)).toBe(0);
  const anonymous = createApiClient({ baseUrl: server.baseUrl });
  await anonymous.auth.register({ ...ORG, role: 'organization' });
  await anonymous.auth.register({ ...LEAVER, role: 'organization' });
  victimId = (await anonymous.auth.register({ ...VICTIM, role: 'consultant' })).user.id;
  await anonymous.auth.register({ ...GUESSED, role: 'consultant' });
  const orgToken = (await anonymous.auth.login(ORG)).accessToken;
  const asOrg = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => orgToken });
  const file = await asOrg.files.upload(new Blob(['name,amount\nann,12\n']), {}, { transport: 'fetch', filename: FILENAME });
  const victimToken = (await anonymous.auth.login(VICTIM)).accessToken;
  const asVictim = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => victimToken });
  const request = await asVictim.accessRequests.create(file.id, { reason: 'Quarterly payroll check' });
  await asOrg.accessRequests.approve(request.id, { maxDownloads: 3 });
  // 12 wrong passwords for one account: the failed_logins alert (and the lock).
  for (let i = 0; i < 12; i++) {
    await anonymous.auth.login({ username: GUESSED.username, password: `wrong guess number ${i}` }).catch(() => undefined);
  }
});

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await server?.stop();
});

describe('admin console', () => {
  it('runs an incident on a signed-in consultant, shows the steps in the audit, verifies, acknowledges the alert', async () => {
    const victim = await person();
    await signIn(victim, VICTIM);

    const admin = await person();
    const requested: string[] = [];
    admin.on('request', (r) => requested.push(r.url()));
    await signIn(admin, ADMIN);
    const nav = admin.getByRole('navigation', { name: 'Main' });
    for (const name of ['Users', 'Audit', 'Alerts', 'Master key']) await nav.getByRole('link', { name }).waitFor();

    // Users: every account with its state; search and filters narrow the table.
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(5);
    expect(await row(admin, VICTIM.username).textContent()).toMatch(/ConsultantActive.*Not lockedYes1/);
    expect(await row(admin, GUESSED.username).textContent()).toMatch(/Never\d+Locked until/);
    await admin.getByLabel('Role').selectOption('organization');
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(2);
    await admin.getByLabel('Role').selectOption('all');
    await admin.getByLabel('Search by username').fill('victim');
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(1);
    await admin.getByLabel('Search by username').fill('');
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(5);
    await screenshots(admin, 'users');

    // Incident response: says what will happen, then what was done.
    await admin.getByRole('button', { name: `Incident response for ${VICTIM.username}` }).click();
    const dialog = admin.getByRole('dialog', { name: `Incident response for ${VICTIM.username}` });
    const plan = (await dialog.textContent()) ?? '';
    expect(plan).toMatch(/disable victim\.consultant/);
    expect(plan).toMatch(/end every session/);
    expect(plan).toMatch(/revoke every grant \(1 active grant now\)/);
    expect(plan).toMatch(/delete the private key of victim\.consultant/);
    await screenshots(admin, 'incident-response', { fullPage: false });
    await dialog.getByRole('button', { name: 'Run incident response' }).click();
    const done = dialog.getByRole('status');
    await done.waitFor();
    expect(await done.textContent()).toMatch(/Account disabled[1-9]\d* sessions? ended1 grant revokedPrivate key deleted/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => row(admin, VICTIM.username).textContent()).toMatch(/Disabled.*No0/);

    // The consultant's open tab: its next action lands on the sign-in page, and sign-in is refused.
    await victim.getByRole('link', { name: 'My requests' }).click();
    await victim.waitForURL('**/sign-in');
    await victim.getByLabel('Username').fill(VICTIM.username);
    await victim.getByLabel('Password').fill(VICTIM.password);
    await victim.getByRole('button', { name: 'Sign in' }).click();
    await victim.getByRole('alert').filter({ hasText: 'This account has been disabled' }).waitFor();
    expect(new URL(victim.url()).pathname).toBe('/sign-in');

    // Audit: the incident's steps, newest first; the chart loads only here; Verify is green.
    expect(requested.some((url) => /audit-chart-/.test(url))).toBe(false);
    await admin.getByRole('link', { name: 'Audit' }).click();
    await admin.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    for (const operation of ['account_disabled', 'access_revoked', 'private_key_deleted']) {
      const step = admin.locator(`tr[data-operation="${operation}"]`).filter({ hasText: `"targetUserId":"${victimId}"` });
      await expect.poll(() => step.count(), { message: operation }).toBe(1);
    }
    expect(await admin.locator('tr[data-operation="private_key_deleted"]').textContent()).toContain('"purpose":"incident"');
    const operations = await admin.locator('tbody tr[data-operation]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-operation')));
    expect(operations.indexOf('private_key_deleted')).toBeLessThan(operations.indexOf('account_disabled'));
    await admin.getByTestId('audit-chart').waitFor();
    expect(requested.some((url) => /audit-chart-.*\.js$/.test(url))).toBe(true);
    await admin.getByRole('button', { name: 'Verify' }).click();
    await admin.locator('.alert-success').filter({ hasText: /Chain intact: all \d+ records/ }).waitFor();

    await admin.getByLabel('Outcome').selectOption('false');
    await expect.poll(() => admin.locator('tbody tr[data-operation]').evaluateAll((rows) => rows.every((r) => r.textContent?.includes('Failed')))).toBe(true);
    await admin.getByLabel('Operation', { exact: true }).fill('login_failed');
    await expect.poll(async () => new Set(await admin.locator('tbody tr[data-operation]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-operation'))))).toEqual(new Set(['login_failed']));
    await admin.getByLabel('Operation', { exact: true }).fill('');
    await admin.getByLabel('Outcome').selectOption('all');
    await screenshots(admin, 'audit');

    // Export CSV: through the authenticated client, no token in any address.
    const [csv] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(csv.suggestedFilename()).toBe('audit-30d.csv');
    const text = await readFile(await csv.path(), 'utf8');
    expect(text.split('\n')[0]).toBe('id,timestamp,operation,success,userId,ipAddress,details');
    expect(text).toContain(',account_disabled,true,');
    expect(requested.filter((url) => /token|bearer|authorization/i.test(new URL(url).search))).toEqual([]);

    // Alerts: the failed sign-ins raised one; acknowledging it lowers the badge.
    const badge = admin.getByTestId('open-alerts');
    const before = Number.parseInt((await badge.textContent()) ?? '0', 10);
    expect(before).toBeGreaterThanOrEqual(1);
    await admin.getByRole('link', { name: 'Alerts' }).click();
    // One alert per 15-minute window: guesses that straddle a quarter hour raise two.
    const alerts = admin.locator('tr[data-alert="failed_logins"]').filter({ hasText: GUESSED.username });
    await alerts.first().waitFor();
    const raised = await alerts.count();
    expect(raised).toBeLessThanOrEqual(2);
    expect(Number(await alerts.first().locator('td[data-label="Count"]').textContent())).toBeGreaterThanOrEqual(1);
    await screenshots(admin, 'alerts');
    await alerts.first().getByRole('button', { name: /^Acknowledge/ }).click();
    await expect.poll(() => alerts.count()).toBe(raised - 1);
    await expect.poll(async () => ((await badge.count()) === 0 ? 0 : Number.parseInt((await badge.textContent()) ?? '0', 10))).toBe(before - 1);
    await admin.getByLabel('Show acknowledged alerts too').check();
    await expect.poll(() => alerts.filter({ hasText: 'Acknowledged by chief.admin' }).count()).toBe(1);

    // Master key: the count of data keys per key id (one file uploaded).
    await admin.getByRole('link', { name: 'Master key' }).click();
    await expect.poll(() => admin.locator('tbody tr').first().textContent()).toMatch(/kek_[0-9a-f]{16}1Active/);
    await screenshots(admin, 'master-key');
  });

  it('disables, enables and erases an account, with a certificate that verifies offline', async () => {
    const admin = await person();
    await signIn(admin, ADMIN);
    await admin.getByRole('link', { name: 'Users' }).click();
    const leaver = row(admin, LEAVER.username);
    await admin.getByRole('button', { name: `Disable ${LEAVER.username}` }).click();
    await admin.getByRole('dialog', { name: `Disable ${LEAVER.username}` }).getByRole('button', { name: 'Disable' }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => leaver.textContent()).toMatch(/Disabled/);
    await admin.getByRole('button', { name: `Enable ${LEAVER.username}` }).click();
    await expect.poll(() => leaver.textContent()).toMatch(/Active/);

    await admin.getByRole('button', { name: `Erase ${LEAVER.username}` }).click();
    const dialog = admin.getByRole('dialog', { name: `Erase ${LEAVER.username}` });
    const confirm = dialog.getByRole('button', { name: 'Erase for good' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(`Type ${LEAVER.username} to confirm`).fill(LEAVER.username);
    await confirm.click();
    await dialog.getByLabel('Erasure certificate').waitFor();
    await screenshots(admin, 'erasure-certificate', { fullPage: false });
    const [file] = await Promise.all([admin.waitForEvent('download'), dialog.getByRole('button', { name: 'Download certificate (JSON)' }).click()]);
    const certificate = JSON.parse(await readFile(await file.path(), 'utf8')) as ErasureCertificate;
    expect(JSON.parse((await dialog.getByLabel('Erasure certificate').textContent()) ?? '')).toEqual(certificate);
    const key = (await (await fetch(`${server.baseUrl}/api/v1/audit/public-key`)).json()) as { keyId: string; publicKeyPem: string };
    expect(certificate.keyId).toBe(key.keyId);
    const c = certificate;
    const message = JSON.stringify(['sfe-erasure-v1', c.userId, c.erasedAt, c.privateKeyDestroyed, c.filesShredded, c.grantsRevoked, c.keyId]);
    expect(verifySignature(null, Buffer.from(message), key.publicKeyPem, Buffer.from(c.signature, 'base64'))).toBe(true);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => row(admin, c.pseudonym).textContent()).toMatch(/Erased.*Erased: nothing left to do/);
  });

  it('is the not-found page for anyone else, with no flash of an admin screen and no admin request', async () => {
    const { context, page } = await newPerson(browser, server.baseUrl);
    contexts.push(context);
    // Every heading that is ever put on the page, however briefly.
    await context.addInitScript(() => {
      const seen: string[] = [];
      Reflect.set(window, '__headings', seen);
      new MutationObserver(() => {
        for (const h of document.querySelectorAll('h1, h2')) if (h.textContent && !seen.includes(h.textContent)) seen.push(h.textContent);
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    const adminCalls: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/admin')) adminCalls.push(r.url());
    });
    await signIn(page, ORG);
    expect(await page.getByRole('link', { name: /^(Users|Audit|Alerts|Master key)/ }).count()).toBe(0);
    for (const address of ['/admin/users', '/admin/audit', '/admin/alerts', '/admin/master-key']) {
      await page.goto(address);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      const headings = (await page.evaluate(() => Reflect.get(window, '__headings'))) as string[];
      expect(headings.filter((h) => /^(Users|Audit|Alerts|Master key|Accounts|Log|Open alerts)$/.test(h)), address).toEqual([]);
    }
    expect(adminCalls).toEqual([]);
  });
});
