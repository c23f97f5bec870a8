import { createApiClient } from '@sfe/api-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpTestServer } from './helpers/smtp.ts';
import { buildSpa } from './helpers/spa.ts';

// An organization sets its email address on the profile, verifies it through the emailed
// link, and then hears of a consultant's new request twice: the badge and list in the
// app, and an email delivered to a real SMTP server running in this test.
const ORG = { username: 'notified-owner', password: 'owner password 1234' };
const CONSULTANT = { username: 'asking.consultant', password: 'consultant password 5678' };
const FILENAME = 'board-minutes-2026.pdf';
const ADDRESS = 'owner@example.test';

let smtp: SmtpTestServer;
let server: RunningServer;
let browser: Browser;
let asConsultant: ReturnType<typeof createApiClient>;
let fileId: string;

beforeAll(async () => {
  await buildSpa();
  smtp = await startSmtpServer();
  server = await startServer({ SMTP_URL: smtp.url, EMAIL_SEND_INTERVAL_MS: '100' });
  browser = await launchBrowser();
  const anonymous = createApiClient({ baseUrl: server.baseUrl });
  await anonymous.auth.register({ ...ORG, role: 'organization' });
  await anonymous.auth.register({ ...CONSULTANT, role: 'consultant' });
  const orgToken = (await anonymous.auth.login(ORG)).accessToken;
  const asOrg = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => orgToken });
  fileId = (await asOrg.files.upload(new Blob(['minutes']), {}, { transport: 'fetch', filename: FILENAME })).id;
  const consultantToken = (await anonymous.auth.login(CONSULTANT)).accessToken;
  asConsultant = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => consultantToken });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await smtp?.stop();
});

describe('notifications', () => {
  it('an organization sees a new request in the badge and the list, and receives it by email', async () => {
    const { context, page } = await newPerson(browser, server.baseUrl);
    try {
      await signIn(page, ORG);
      await page.getByRole('link', { name: 'Profile' }).click();
      const section = page.getByRole('region', { name: 'Email notifications' });
      await section.getByLabel('Email address').fill(ADDRESS);
      await section.getByLabel('New access request on one of my files').check();
      await section.getByRole('button', { name: 'Save email settings' }).click();
      await expect.poll(() => section.getByText('Check your inbox for the verification link.').isVisible()).toBe(true);

      // The link from the email: the token rides in the fragment, and leaves the address bar at once.
      await expect.poll(() => smtp.to(ADDRESS).length).toBe(1);
      const link = /(http:\/\/\S+\/verify-email#token=[A-Za-z0-9_-]+)/.exec(smtp.to(ADDRESS)[0]!.text)?.[1];
      expect(link?.startsWith(`${server.baseUrl}/verify-email#token=`)).toBe(true);
      await page.goto(link!);
      await expect.poll(() => page.getByText(/is verified/).isVisible()).toBe(true);
      expect(new URL(page.url()).hash).toBe('');
      await page.goto('/profile');
      await expect.poll(() => page.getByRole('region', { name: 'Email notifications' }).getByText('Verified.').isVisible()).toBe(true);

      expect(await page.getByTestId('unread-notifications').count()).toBe(0);
      await asConsultant.accessRequests.create(fileId, { reason: 'Quarterly review' });

      // The badge polls; a reload shows it at once.
      await page.reload();
      await expect.poll(() => page.getByTestId('unread-notifications').textContent()).toMatch(/^1/);
      await page.getByRole('link', { name: /^Notifications/ }).click();
      const item = page.getByTestId('notification').filter({ hasText: FILENAME });
      await expect.poll(() => item.isVisible()).toBe(true);
      expect(await item.textContent()).toContain(CONSULTANT.username);
      await item.getByRole('button', { name: 'Mark as read' }).click();
      await expect.poll(() => page.getByTestId('unread-notifications').count()).toBe(0);
      expect(await item.getByRole('button', { name: 'Mark as read' }).count()).toBe(0);

      await expect.poll(() => smtp.to(ADDRESS).filter((m) => /New access request/.test(m.subject)).length).toBe(1);
      const mail = smtp.to(ADDRESS).find((m) => /New access request/.test(m.subject))!;
      expect(mail.to).toEqual([ADDRESS]);
      expect(mail.text).toContain(FILENAME);
      expect(mail.text).toContain(`${server.baseUrl}/notifications`);
      expect(mail.raw).not.toContain('Quarterly review');
      expect(mail.raw).not.toContain(ORG.password);
      expect(smtp.received.every((m) => m.to.length === 1 && m.to[0] === ADDRESS)).toBe(true);
    } finally {
      await context.close();
    }
  });
});
