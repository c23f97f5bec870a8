import { randomBytes } from 'node:crypto';
import { createApiClient } from '@sfe/api-client';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from './helpers/admin.ts';
import { launchBrowser, newPerson } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

// Second factors in the real browser against the real API, with the default policy:
// admins must enrol before anything else. Passkeys are bound to a host name (never an
// IP address), so the browser opens the server as localhost, the default WebAuthn origin.
const KEYS = { MASTER_KEY: randomBytes(32).toString('hex') };
const ADMIN = { username: 'mfa.admin', password: 'mfa admin pass phrase' };
const CONSULTANT = { username: 'passkey.consultant', password: 'passkey consultant phrase' };

let server: RunningServer;
let browser: Browser;
let origin: string;
const contexts: BrowserContext[] = [];

async function person(): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await newPerson(browser, origin);
  contexts.push(opened.context);
  return opened;
}

const codeAt = (secret: string, step: number) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: step * 30_000 + 1_000 });

/** The current 30-second step, waiting first if fewer than 8 seconds of it are left. */
async function stepAwayFromEdge(): Promise<number> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 200));
  return Math.floor(Date.now() / 30_000);
}

async function passwordStep(page: Page, who: { username: string; password: string }) {
  await page.goto('/sign-in');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  await buildSpa();
  server = await startServer({ ...KEYS, MFA_REQUIRED_ROLES: 'admin' });
  origin = server.baseUrl.replace('127.0.0.1', 'localhost');
  browser = await launchBrowser();
  expect(await createAdmin(server.dataDir, ADMIN, KEYS)).toBe(0);
  await createApiClient({ baseUrl: server.baseUrl }).auth.register({ ...CONSULTANT, role: 'consultant' });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('second factors', () => {
  it('an admin is taken to enrolment, sets up an authenticator app, and signs in again with a code', async () => {
    const { page } = await person();
    await passwordStep(page, ADMIN);
    // Every admin screen answers MFA_REQUIRED until a factor is enrolled: the SPA goes to enrolment.
    await page.waitForURL('**/profile#two-factor');
    await expect.poll(() => page.getByText('Your role must use a second factor').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await expect.poll(() => page.getByAltText('QR code for your authenticator app').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const step = await stepAwayFromEdge();
    await page.getByLabel('Code from the app').fill(codeAt(secret, step));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.getByRole('region', { name: 'Recovery codes' }).locator('li');
    await expect.poll(() => codes.count()).toBe(10);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect.poll(() => page.getByText('Recovery codes left:').isVisible()).toBe(true);
    // Enrolled: the admin screens open.
    await page.goto('/admin/users');
    await expect.poll(() => page.getByRole('heading', { name: 'Accounts' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await passwordStep(page, ADMIN);
    await page.getByLabel('Authentication code').fill(codeAt(secret, step + 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/files');
    await page.goto('/admin/users');
    await expect.poll(() => page.getByRole('heading', { name: 'Accounts' }).isVisible()).toBe(true);
  });

  it('a consultant registers a passkey on a virtual authenticator and signs in with it', async () => {
    const { context, page } = await person();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await passwordStep(page, CONSULTANT);
    await page.waitForURL('**/files');
    await page.goto('/profile');
    await page.getByLabel('Passkey name').fill('Work laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Your passkeys' }).getByText('Work laptop', { exact: true }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await passwordStep(page, CONSULTANT);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/files');
  });
});
