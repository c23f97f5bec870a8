import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installPickerRecorder, launchBrowser, newPerson, recordedBytes, row, screenshot } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

const ORG = { username: 'acme-corp', password: 'org password 1234' };
const CONSULTANT = { username: 'carol.consults', password: 'consultant pw 5678' };

let server: RunningServer;
let browser: Browser;
let org: Page;
let consultant: Page;
let workDir: string;
const files = { alpha: { name: 'alpha-report.bin', bytes: randomBytes(3 * 1024 * 1024 + 123) }, beta: { name: 'beta-notes.txt', bytes: Buffer.from('meeting notes\n'.repeat(500)) } };

async function signUp(page: Page, who: { username: string; password: string }, role: 'Organization' | 'Consultant') {
  await page.goto('/sign-up');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByLabel(role).check();
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL('**/files');
}

beforeAll(async () => {
  await buildSpa();
  server = await startServer();
  browser = await launchBrowser();
  org = (await newPerson(browser, server.baseUrl)).page;
  consultant = (await newPerson(browser, server.baseUrl)).page;
  workDir = await mkdtemp(path.join(tmpdir(), 'sfe-e2e-files-'));
  for (const f of Object.values(files)) await writeFile(path.join(workDir, f.name), f.bytes);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// The steps tell one story: once a step fails, the later ones would only repeat it.
let broken = false;
beforeEach((ctx) => {
  if (broken) ctx.skip();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') broken = true;
});

describe('exchanging a file end to end', () => {
  it('an organization signs up and uploads two files', async () => {
    await signUp(org, ORG, 'Organization');
    await expect.poll(() => org.getByRole('heading', { level: 1, name: 'My files' }).isVisible()).toBe(true);
    await org.getByLabel('Files to upload').setInputFiles(Object.values(files).map((f) => path.join(workDir, f.name)));
    await org.getByRole('button', { name: 'Upload', exact: true }).click();
    const queue = org.getByRole('list', { name: 'Upload queue' });
    await expect.poll(() => queue.getByText('Uploaded').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => row(org, files.alpha.name).count()).toBe(1);
    await expect.poll(() => row(org, files.beta.name).count()).toBe(1);
    await screenshot(org, 'organization-files');
  });

  it('a consultant signs up, finds the files in the catalog and requests access', async () => {
    await signUp(consultant, CONSULTANT, 'Consultant');
    await expect.poll(() => consultant.getByRole('heading', { level: 1, name: 'Catalog' }).isVisible()).toBe(true);
    await consultant.getByLabel('Search files by name').fill('alpha');
    await expect.poll(() => row(consultant, files.beta.name).count()).toBe(0);
    for (const f of [files.alpha, files.beta]) {
      await consultant.getByLabel('Search files by name').fill(f.name.slice(0, 4));
      await row(consultant, f.name).getByRole('button', { name: 'Request access' }).click();
      await consultant.getByLabel('Reason').fill(`Audit engagement needs ${f.name}`);
      await consultant.getByRole('dialog').getByRole('button', { name: 'Request access' }).click();
      await expect.poll(() => row(consultant, f.name).getByText('Pending').isVisible()).toBe(true);
    }
    await consultant.getByLabel('Search files by name').fill('');
    await expect.poll(() => row(consultant, files.beta.name).count()).toBe(1);
    await screenshot(consultant, 'consultant-catalog');
  });

  it('the organization approves one with a download limit of 1 and the other without', async () => {
    await org.getByRole('link', { name: 'Requests inbox' }).click();
    await expect.poll(() => row(org, files.alpha.name).count()).toBe(1);
    await expect.poll(() => row(org, files.beta.name).count()).toBe(1);
    await screenshot(org, 'organization-inbox');

    await row(org, files.alpha.name).getByRole('button', { name: /^Approve/ }).click();
    await org.getByLabel('Download limit (optional)').fill('1');
    await org.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => row(org, files.alpha.name).count()).toBe(0);

    await row(org, files.beta.name).getByRole('button', { name: /^Approve/ }).click();
    await org.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => org.getByText('No pending requests.').isVisible()).toBe(true);
  });

  it('the consultant downloads with the password: wrong one refused, right one gives the original bytes', async () => {
    await consultant.getByRole('link', { name: 'My requests' }).click();
    const alpha = row(consultant, files.alpha.name);
    await expect.poll(() => alpha.getByText('Approved').isVisible()).toBe(true);
    await expect.poll(() => alpha.getByRole('cell').nth(5).textContent()).toBe('1');

    await alpha.getByRole('button', { name: 'Download' }).click();
    const dialog = consultant.getByRole('dialog');
    await dialog.getByLabel('Password').fill('definitely not it');
    await screenshot(consultant, 'download-dialog');
    await dialog.getByRole('button', { name: 'Download' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('That password is not correct.');

    await dialog.getByLabel('Password').fill(CONSULTANT.password);
    const [download] = await Promise.all([
      consultant.waitForEvent('download', { timeout: 60_000 }),
      dialog.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(files.alpha.name);
    const saved = await readFile(await download.path());
    expect(saved.equals(files.alpha.bytes)).toBe(true);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('a grant whose last download was used is closed as expired, with nothing left to download', async () => {
    const alpha = row(consultant, files.alpha.name);
    // The API closes an exhausted grant (status expired, its wrapped key destroyed).
    await expect.poll(() => alpha.getByText('Expired').isVisible()).toBe(true);
    await expect.poll(() => alpha.getByRole('button', { name: 'Download' }).count()).toBe(0);
    expect(await alpha.getByRole('cell').nth(5).textContent()).toBe('—');
  });

  it('streams to disk where the browser offers a file picker', async () => {
    await installPickerRecorder(consultant);
    await row(consultant, files.beta.name).getByRole('button', { name: 'Download' }).click();
    const dialog = consultant.getByRole('dialog');
    await dialog.getByLabel('Password').fill(CONSULTANT.password);
    await dialog.getByRole('button', { name: 'Download' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toContain('saved where you chose');
    expect((await recordedBytes(consultant)).equals(files.beta.bytes)).toBe(true);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('the organization revokes the other grant and the consultant sees it revoked', async () => {
    await org.getByLabel('Show').selectOption('approved');
    await row(org, files.beta.name).getByRole('button', { name: /^Revoke/ }).click();
    await org.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => row(org, files.beta.name).count()).toBe(0);

    await consultant.reload();
    await expect.poll(() => row(consultant, files.beta.name).getByText('Revoked').isVisible()).toBe(true);
    await expect.poll(() => row(consultant, files.beta.name).getByRole('button', { name: 'Download' }).count()).toBe(0);

    // Phone width: rows become labelled blocks, nothing needs sideways scrolling.
    await consultant.setViewportSize({ width: 390, height: 844 });
    const overflow = await consultant.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(consultant, 'consultant-requests-phone');
    await consultant.setViewportSize({ width: 1280, height: 860 });
  });

  it('shows who has access per file, and the profile with the key', async () => {
    await org.getByRole('link', { name: 'My files' }).click();
    await org.getByRole('link', { name: files.alpha.name }).click();
    const access = org.getByRole('region', { name: 'Who has access' });
    await expect.poll(() => access.locator('tr', { hasText: CONSULTANT.username }).count()).toBe(1);

    await consultant.getByRole('link', { name: 'Profile' }).click();
    await expect.poll(() => consultant.getByText('RSA-2048').isVisible()).toBe(true);
    // Two downloads unlocked the private key (alpha once, beta once); the refused
    // attempts (wrong password, limit reached) did not.
    await expect.poll(() => consultant.locator('dt:has-text("Private key uses") + dd').textContent()).toBe('2');
    await screenshot(consultant, 'profile');
  });

  it('the owner downloads its own file and deletes another after an irreversible-delete warning', async () => {
    await org.getByRole('link', { name: 'My files' }).click();
    const [download] = await Promise.all([
      org.waitForEvent('download', { timeout: 60_000 }),
      row(org, files.alpha.name).getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(files.alpha.name);
    expect((await readFile(await download.path())).equals(files.alpha.bytes)).toBe(true);

    await row(org, files.beta.name).getByRole('button', { name: 'Delete' }).click();
    const dialog = org.getByRole('dialog');
    expect(await dialog.textContent()).toContain('irreversible');
    await dialog.getByRole('button', { name: 'Delete permanently' }).click();
    await expect.poll(() => row(org, files.beta.name).count()).toBe(0);
    expect(await row(org, files.alpha.name).count()).toBe(1);
  });

  it('signs out to the sign-in page, and protected pages then ask to sign in', async () => {
    await consultant.getByRole('button', { name: 'Sign out' }).click();
    await consultant.waitForURL('**/sign-in');
    await consultant.goto('/requests');
    await consultant.waitForURL('**/sign-in');
    await expect.poll(() => consultant.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
  });

  it('answers an unknown address with the 404 page', async () => {
    await consultant.goto('/no/such/page');
    await expect.poll(() => consultant.getByRole('heading', { name: 'Page not found' }).isVisible()).toBe(true);
  });
});
