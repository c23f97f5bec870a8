import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const screenshotDir = path.resolve(import.meta.dirname, '../../test-results/screenshots');
const CHROMIUM = process.env.SFE_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless; never a downloaded browser build. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's package (apt-get install -y chromium) or set SFE_CHROMIUM.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * One person's browser. The File System Access picker is removed so downloads take
 * the Blob path, which the browser reports as a download event; a test that wants
 * the streaming path installs its own picker (see installPickerRecorder).
 */
export async function newPerson(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, acceptDownloads: true, viewport: { width: 1280, height: 860 } });
  await context.addInitScript(() => {
    Reflect.deleteProperty(window, 'showSaveFilePicker');
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * A stand-in for showSaveFilePicker whose writable keeps what it is given, so the
 * streaming-to-disk path runs in the real browser and its bytes can be compared.
 */
export async function installPickerRecorder(page: Page): Promise<void> {
  await page.evaluate(() => {
    const chunks: number[][] = [];
    Reflect.set(window, '__savedChunks', chunks);
    Reflect.set(window, 'showSaveFilePicker', async () => ({
      createWritable: async () =>
        new WritableStream<Uint8Array>({
          write(chunk) {
            chunks.push(Array.from(chunk));
          },
        }),
    }));
  });
}

export async function recordedBytes(page: Page): Promise<Buffer> {
  const chunks = await page.evaluate(() => Reflect.get(window, '__savedChunks') as number[][]);
  return Buffer.concat(chunks.map((c) => Buffer.from(c)));
}

/** Signs in through the sign-in page and waits for the files screen. */
export async function signIn(page: Page, who: { username: string; password: string }): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/files');
}

/** The table row that mentions `text` (a file name, a username). */
export const row = (page: Page, text: string) => page.locator('tr', { hasText: text });

/** Where the admin screenshots for the docs go (committed, looked at by people). */
export const docsScreenshotDir = path.resolve(import.meta.dirname, '../../../../docs/screenshots');

/** A PNG under docs/screenshots/: the full page, or only the viewport (a modal dialog covers only that). */
export async function docsScreenshot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  await mkdir(docsScreenshotDir, { recursive: true });
  // No focus ring left over from the test's typing.
  await page.evaluate(() => (document.activeElement instanceof HTMLElement && !document.activeElement.closest('[role="dialog"]') ? document.activeElement.blur() : undefined));
  await page.screenshot({ path: path.join(docsScreenshotDir, `${name}.png`), fullPage });
}

/**
 * Pixels the page, or a canvas clipped inside it, is wider than the viewport (0 when
 * nothing sticks out off-screen).
 */
export const horizontalOverflow = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const canvases = Array.from(document.querySelectorAll('canvas'), (c) => Math.ceil(c.getBoundingClientRect().right) - width);
    return Math.max(0, document.documentElement.scrollWidth - width, ...canvases);
  });
