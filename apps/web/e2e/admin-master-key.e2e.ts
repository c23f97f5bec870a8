import { randomBytes } from 'node:crypto';
import { createApiClient } from '@sfe/api-client';
import { describe, expect, it } from 'vitest';
import { createAdmin } from './helpers/admin.ts';
import { screenshot, signIn } from './helpers/browser.ts';
import { browserSuite } from './helpers/suite.ts';

const MASTER_KEY = randomBytes(32).toString('hex');
const PREVIOUS_KEY = randomBytes(32).toString('hex');
const ADMIN = { username: 'console.admin', password: 'console admin pass phrase' };

const suite = browserSuite({ MASTER_KEY, MASTER_KEY_PREVIOUS: PREVIOUS_KEY }, async (server) => {
  expect(await createAdmin(server.dataDir, ADMIN, { MASTER_KEY, MASTER_KEY_PREVIOUS: PREVIOUS_KEY })).toBe(0);
  const client = createApiClient({ baseUrl: server.baseUrl });
  await client.auth.register({ username: 'keys.org', password: 'organization pass phrase', role: 'organization' });
  await client.auth.register({ username: 'keys.consultant', password: 'consultant pass phrase', role: 'consultant' });
  const { accessToken } = await client.auth.login({ username: 'keys.org', password: 'organization pass phrase' });
  const org = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => accessToken });
  for (const name of ['one.txt', 'two.txt']) await org.files.upload(new Blob([`content of ${name}`]), {}, { filename: name });
});

describe('admin console: master key', () => {
  it('shows what each key id wraps, verifies, and rotates with a confirmation', async () => {
    const page = await suite.person();
    await signIn(page, ADMIN);
    await page.getByRole('link', { name: 'Master key' }).click();
    await page.getByRole('heading', { name: 'Master key' }).waitFor();
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toMatch(/kek_[0-9a-f]{16}2Active/);
    expect(await rows.nth(1).textContent()).toMatch(/0Retired: wraps nothing, may be removedYes/);
    await screenshot(page, 'admin-master-key-1280');

    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Verified: all 2 data keys open' }).waitFor();

    await page.getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the master key' });
    expect(await dialog.textContent()).toMatch(/MASTER_KEY_PREVIOUS/);
    await dialog.getByRole('button', { name: 'Start rotation' }).click();
    await page.getByText(/Completed: 0 of 0 data keys processed/).waitFor();

    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'admin-master-key-390');
  });

  it('is the not-found page for anyone else, who never sees the admin screen', async () => {
    const page = await suite.person();
    await signIn(page, { username: 'keys.consultant', password: 'consultant pass phrase' });
    expect(await page.getByRole('link', { name: 'Master key' }).count()).toBe(0);
    await page.goto('/admin/master-key');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Master key' }).count()).toBe(0);
  });
});
