import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser, newPerson } from './browser.ts';
import { startServer, type RunningServer } from './server.ts';
import { buildSpa } from './spa.ts';

export interface BrowserSuite {
  /** The file's API server (throws before the suite has started). */
  readonly server: RunningServer;
  /** A new person: a fresh browser context (own cookies and storage) and its page. */
  person(): Promise<Page>;
}

/**
 * The scaffolding of one browser test file: one API server (fresh DATA_DIR, the built
 * SPA, `env` on top of the defaults) and one Chromium, started before the file's tests
 * and stopped after them with every context a test opened. `setup` runs once both are up.
 */
export function browserSuite(env: Record<string, string>, setup?: (server: RunningServer) => Promise<void>): BrowserSuite {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const started = () => {
    if (server === undefined || browser === undefined) throw new Error('the browser suite has not started');
    return { server, browser };
  };
  beforeAll(async () => {
    await buildSpa();
    server = await startServer(env);
    browser = await launchBrowser();
    await setup?.(server);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });
  return {
    get server() {
      return started().server;
    },
    async person() {
      const { server: api, browser: chromium } = started();
      const { context, page } = await newPerson(chromium, api.baseUrl);
      contexts.push(context);
      return page;
    },
  };
}
