import { defineConfig } from 'vitest/config';

// One run over every package; each package's vitest.config.ts defines its project.
// The browser end-to-end project needs the built SPA and Chromium (the root `test`
// script provides both).
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'apps/api/vitest.pg.config.ts', 'apps/web/vitest.e2e.config.ts'],
  },
});
