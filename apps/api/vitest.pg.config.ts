import { defineConfig } from 'vitest/config';

/**
 * The API suite again, on PostgreSQL: one server for the run (test/helpers/pg-global-setup.ts),
 * a database per DATA_DIR (test/helpers/database.ts). Left out: tests of SQLite itself
 * or of parts that never touch the app database (listed below with the reason).
 */
export default defineConfig({
  test: {
    name: 'api-pg',
    root: import.meta.dirname,
    // test/pg/: about PostgreSQL itself (migrations, `sfe db copy`, two replicas); only here.
    include: ['test/**/*.test.ts'],
    exclude: [
      // The SQLite migration engine, runner, file URL and WAL; test/pg/ covers PostgreSQL's.
      'test/db/migrations.test.ts',
      'test/db/migrate-runner.test.ts',
      // Reads the SQLite file directly while the server rotates (WAL reader).
      'test/kek/rotation-kill.test.ts',
      // Backups snapshot the SQLite file; a PostgreSQL database is backed up with pg_dump (docs/operations.md).
      'test/backup/**',
      'test/cli/backup-cli.test.ts',
      // Asserts on the SQLite files in DATA_DIR.
      'test/e2e/full-flow.test.ts',
      // No app database involved: configuration parsing, compose/Dockerfile, runbook text, key and blob stores.
      'test/config/**',
      'test/deploy/**',
      'test/docs/**',
      'test/stores/**',
    ],
    globalSetup: ['test/helpers/pg-global-setup.ts'],
    setupFiles: ['test/helpers/pg-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
