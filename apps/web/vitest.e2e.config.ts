import { defineConfig } from 'vitest/config';

// Browser end-to-end tests: real API process, fresh DATA_DIR, Debian's Chromium.
// Kept out of the default `web` project because they need a built SPA and a browser.
export default defineConfig({
  test: {
    name: 'e2e',
    root: import.meta.dirname,
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // The API runs as `pnpm start` runs it: the built server (apps/api/dist/server.mjs).
    globalSetup: ['../api/test/helpers/server-build-global-setup.ts'],
    // Sign-ins and downloads run a 600k-iteration KDF on a shared 2-core machine.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
