import { defineConfig } from 'vitest/config';

/**
 * The API tests that exercise the database layer, again on PostgreSQL: one server for the
 * run (test/helpers/pg-global-setup.ts), a database per DATA_DIR (test/helpers/database.ts),
 * plus test/pg/ (migrations, the audit chain, `sfe db copy`, backup, two replicas), which only runs here.
 *
 * Not repeated here, to keep the suite's time on two cores: tests of SQLite itself
^ * (test/db/ but its direct-read test, kek/rotation-kill reads the WAL file, e2e/full-flow lists the SQLite files),
 * the backup tests that take the SQLite file apart (test/pg/backup-pg.test.ts
 * is the drill on PostgreSQL), and tests whose subject is not the database
 * (configuration, HTTP hardening, canaries, resource limits, OpenAPI, compose, runbooks,
 * key and blob stores, the key store down or slow behind a proxy). The model-based authorization test, the response allow-list over every
 * route, the sign-in throttle and the smoke flow do run here: they reach every query. security/properties.test.ts passes here too but takes minutes; run it
 * with `vitest run --project api-pg test/security/properties.test.ts` when touching queries.
 */
export default defineConfig({
  test: {
    name: 'api-pg',
    root: import.meta.dirname,
    include: [
      'test/pg/**/*.test.ts',
      'test/routes/{access-requests,auth,files,file-list-pages,keys,health}.test.ts',
      'test/admin/*.test.ts',
      'test/audit/*.test.ts',
      'test/kek/{kek-api,kek-service}.test.ts',
      'test/security/{grants,password-budget,sign-in-throttle,authorization-model,response-allow-list,retry-answers}.test.ts',
      'test/smoke/*.test.ts',
      'test/integrity/*.test.ts',
      'test/cli/{admin,user-audit,decrypt,kek-custody}.test.ts',
      'test/faults/{crash-mid-upload,client-abort,sigterm-mid-upload,rotation-crash-window,password-change-crash-window,key-store-stall-mid-write}.test.ts',
      'test/notifications/{notifications,email}.test.ts',
      'test/mfa/*.test.ts',
      'test/routes/errors.test.ts',
      'test/kek/kek-pkcs11.test.ts',
      'test/db/direct-read.test.ts',
    ],
    globalSetup: ['test/helpers/pg-global-setup.ts', 'test/helpers/server-build-global-setup.ts'],
    setupFiles: ['test/helpers/pg-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
