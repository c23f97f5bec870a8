import { createApiClient, type ApiError } from '@sfe/api-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPerson } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

// A server of its own: short-lived access tokens (the API's minimum, 30 s) make the
// silent refresh happen within seconds, and its login counters start fresh.
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** A fresh browser context per test, closed afterwards so no idle tab keeps refreshing. */
async function person(): Promise<Page> {
  const { context, page } = await newPerson(browser, server.baseUrl);
  contexts.push(context);
  return page;
}

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

beforeAll(async () => {
  await buildSpa();
  server = await startServer({ ACCESS_TOKEN_TTL_SECONDS: '30' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const refreshToken = (page: Page) => page.evaluate(() => sessionStorage.getItem('sfe.refreshToken'));

async function signUp(page: Page, username: string, password: string) {
  await page.goto('/sign-up');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Consultant').check();
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL('**/files');
}

describe('sessions', () => {
  it('shows validation problems next to their field', async () => {
    const page = await person();
    await page.goto('/sign-up');
    await page.getByLabel('Username').fill('ok-name');
    await page.getByLabel('Password').fill('too short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const password = page.getByLabel('Password');
    await expect.poll(() => password.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await password.getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((id) => id.endsWith('-error')) ?? '';
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/12/);
  });

  it('refreshes tokens silently, then sends an expired session to sign-in with a message', async () => {
    const page = await person();
    await signUp(page, 'quiet.refresher', 'refresh me please 42');
    const first = await refreshToken(page);
    expect(first).toBeTruthy();
    // 30 s tokens: the app refreshes at half their lifetime.
    await expect.poll(() => refreshToken(page), { timeout: 30_000, interval: 500 }).not.toBe(first);
    await page.getByRole('link', { name: 'My requests' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1, name: 'My requests' }).isVisible()).toBe(true);

    // A reload keeps the session (refresh token in sessionStorage, new access token).
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1, name: 'My requests' }).isVisible()).toBe(true);

    // A refresh token the server no longer honours: the next silent refresh fails.
    await page.evaluate(() => sessionStorage.setItem('sfe.refreshToken', 'revoked-or-forged'));
    await page.waitForURL('**/sign-in', { timeout: 30_000 });
    await expect.poll(() => page.getByText('Your session has expired. Please sign in again.').isVisible()).toBe(true);
  });

  it('keeps a copied session alive in both tabs when they refresh at the same moment', async () => {
    const first = await person();
    await signUp(first, 'two.tabs', 'two tabs one session');
    // window.open copies sessionStorage, like a tab the browser duplicates: one refresh token, two tabs.
    const [second] = await Promise.all([first.context().waitForEvent('page'), first.evaluate(() => window.open('/requests'))]);
    await expect.poll(() => second.getByRole('heading', { level: 1, name: 'My requests' }).isVisible()).toBe(true);
    for (let round = 0; round < 2; round++) {
      await Promise.all([first.reload(), second.reload()]);
      for (const page of [first, second]) {
        await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible(), { timeout: 20_000 }).toBe(true);
      }
    }
    // Neither was signed out by the other: both still hold a token the API honours.
    await second.getByRole('link', { name: 'Profile' }).click();
    await expect.poll(() => second.getByText('RSA-2048').isVisible()).toBe(true);
    await first.reload();
    await first.getByRole('link', { name: 'My requests' }).click();
    await expect.poll(() => first.getByRole('heading', { level: 1, name: 'My requests' }).isVisible()).toBe(true);
    expect(first.url()).not.toContain('sign-in');
    expect(second.url()).not.toContain('sign-in');
  });

  it('rotates the key pair (with the re-wrapped count) and changes the password, staying signed in', async () => {
    const page = await person();
    await signUp(page, 'key.rotator', 'rotate my keys 4242');
    await page.getByRole('link', { name: 'Profile' }).click();
    const before = await page.locator('dt:has-text("Fingerprint") + dd .fingerprint').textContent();
    const rotate = page.getByRole('region', { name: 'Rotate key pair' });
    await rotate.getByLabel('Password').fill('wrong password here');
    await rotate.getByRole('button', { name: 'Rotate key pair' }).click();
    await expect.poll(() => rotate.getByRole('alert').textContent()).toContain('That password is not correct.');
    await rotate.getByLabel('Password').fill('rotate my keys 4242');
    await rotate.getByRole('button', { name: 'Rotate key pair' }).click();
    await expect.poll(() => rotate.getByRole('status').textContent(), { timeout: 30_000 }).toContain('0 grants were re-wrapped');
    await expect.poll(() => page.locator('dt:has-text("Fingerprint") + dd .fingerprint').textContent()).not.toBe(before);

    const change = page.getByRole('region', { name: 'Change password' });
    const newPassword = 'a brand new passphrase';
    await change.getByLabel('Current password').fill('not my password at all');
    await change.getByLabel('New password', { exact: true }).fill(newPassword);
    await change.getByLabel('Repeat new password').fill(newPassword);
    await change.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => change.getByText('That password is not correct.').isVisible()).toBe(true);
    await change.getByLabel('Current password').fill('rotate my keys 4242');
    await change.getByLabel('New password', { exact: true }).fill(newPassword);
    await change.getByLabel('Repeat new password').fill(newPassword);
    await change.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => change.getByRole('status').textContent(), { timeout: 30_000 }).toContain('Password changed');

    // This session goes on; the new password is the one that signs in.
    await page.getByRole('link', { name: 'My requests' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1, name: 'My requests' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByLabel('Username').fill('key.rotator');
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/files');
  });

  it('shows the lockout from the API next to the username', async () => {
    const username = 'locked.out';
    const password = 'the right password 1';
    const client = createApiClient({ baseUrl: server.baseUrl });
    await client.auth.register({ username, password, role: 'organization' });
    let lastCode = '';
    for (let i = 0; i < 10; i++) {
      lastCode = await client.auth.login({ username, password: `wrong ${i} password`}).then(
        () => 'SIGNED_IN',
        (error: ApiError) => error.code,
      );
    }
    expect(lastCode).toBe('INVALID_CREDENTIALS');

    const page = await person();
    await page.goto('/sign-in');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const usernameField = page.getByLabel('Username');
    await expect.poll(() => usernameField.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await usernameField.getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((id) => id.endsWith('-error')) ?? '';
    await expect.poll(() => page.locator(`[id="${errorId}"]`).textContent()).toMatch(/locked.*Try again in \d+ minutes?/);
  });

  it('says "wrong username or password" for bad credentials', async () => {
    const page = await person();
    await page.goto('/sign-in');
    await page.getByLabel('Username').fill('nobody-here');
    await page.getByLabel('Password').fill('whatever password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong username or password.');
  });
});
