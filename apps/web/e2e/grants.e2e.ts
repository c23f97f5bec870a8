import { createApiClient } from '@sfe/api-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPerson, row, signIn } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

// Grants from both sides after a reload: the owner's inbox and the consultant's
// download dialog. The accounts and the file are set up over the API, the screens
// under test are driven in Chromium.
const ORG = { username: 'grant-owner', password: 'owner password 1234' };
const CONSULTANT = { username: 'grant.reader', password: 'reader password 5678' };
const FILENAME = 'ledger-2026.csv';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  await buildSpa();
  server = await startServer();
  browser = await launchBrowser();
  const anonymous = createApiClient({ baseUrl: server.baseUrl });
  await anonymous.auth.register({ ...ORG, role: 'organization' });
  await anonymous.auth.register({ ...CONSULTANT, role: 'consultant' });
  const orgToken = (await anonymous.auth.login(ORG)).accessToken;
  const asOrg = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => orgToken });
  const file = await asOrg.files.upload(new Blob(['date,amount\n2026-01-01,12\n']), {}, { transport: 'fetch', filename: FILENAME });
  const consultantToken = (await anonymous.auth.login(CONSULTANT)).accessToken;
  const asConsultant = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => consultantToken });
  const request = await asConsultant.accessRequests.create(file.id, { reason: 'Year-end audit' });
  await asOrg.accessRequests.approve(request.id, { maxDownloads: 3 });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('grants after a reload', () => {
  it('keeps what is typed into the download dialog while the page settles', async () => {
    const { context, page } = await newPerson(browser, server.baseUrl);
    try {
      await signIn(page, CONSULTANT);
      await page.getByRole('link', { name: 'My requests' }).click();
      await expect.poll(() => row(page, FILENAME).getByRole('button', { name: `Download ${FILENAME}` }).isVisible()).toBe(true);

      await page.reload();
      // As soon as the button is there: the page is still settling.
      await row(page, FILENAME).getByRole('button', { name: `Download ${FILENAME}` }).click();
      const password = page.getByRole('dialog').getByLabel('Password');
      await password.pressSequentially('half-typed', { delay: 20 });
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(2_000);
      expect(await password.inputValue()).toBe('half-typed');
      expect(await page.getByRole('dialog').count()).toBe(1);
      await page.keyboard.press('Escape');

      // The catalog's Download sits in a row of a list that refetches as the page settles.
      await page.getByRole('link', { name: 'Catalog' }).click();
      await page.reload();
      await row(page, FILENAME).getByRole('button', { name: `Download ${FILENAME}` }).click();
      const again = page.getByRole('dialog').getByLabel('Password');
      await again.pressSequentially('typed early', { delay: 20 });
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(2_000);
      expect(await again.inputValue()).toBe('typed early');
      // The grant's allowance shows beside its status.
      await page.keyboard.press('Escape');
      await expect.poll(() => row(page, FILENAME).getByText(/3 downloads left, no end date/).isVisible()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
