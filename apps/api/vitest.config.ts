import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'api',
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    // Need the PostgreSQL server of the api-pg project (vitest.pg.config.ts).
    exclude: ['test/pg/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each test file gets its own DATA_DIR and SQLite file; files run in parallel
    // processes, bounded by the two cores we have.
    pool: 'forks',
    // Tests that start the server as a process run the built one.
    globalSetup: ['test/helpers/server-build-global-setup.ts'],
  },
});
