import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { postgresBinDir } from '../../src/db/pg-cluster.ts';

/**
 * The one place tests choose the app database. By default every DATA_DIR has its own
 * SQLite file (the app's default). In the `api-pg` project (vitest.pg.config.ts) the
 * global setup starts one PostgreSQL server for the run and SFE_TEST_PG_URL names it;
 * every DATA_DIR then gets its own database on it, named after the directory, so
 * whatever builds an app, spawns the CLI or starts a server process on the same
 * DATA_DIR meets the same data, exactly as with the SQLite file inside it.
 */
export const PG_ADMIN_URL_ENV = 'SFE_TEST_PG_URL';

const created = new Set<string>();

export const onPostgres = (): boolean => Boolean(process.env[PG_ADMIN_URL_ENV]);

/** DATABASE_URL for a DATA_DIR: undefined on SQLite (the app's default), else its PostgreSQL database. */
export function testDatabaseUrl(dataDir: string): string | undefined {
  const adminUrl = process.env[PG_ADMIN_URL_ENV];
  if (!adminUrl) return undefined;
  const name = `sfe_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 24)}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (!created.has(name)) {
    // Synchronous so that every helper (including the synchronous CLI spawner) can call it.
    createDatabase(adminUrl, name);
    created.add(name);
  }
  return url.toString();
}

/** DATABASE_URL entries for an env object, when the run is on PostgreSQL. */
export function databaseEnv(dataDir: string): Record<string, string> {
  const url = testDatabaseUrl(dataDir);
  return url ? { DATABASE_URL: url } : {};
}

function createDatabase(adminUrl: string, name: string): void {
  const bin = postgresBinDir();
  const psql = bin ? path.join(bin, 'psql') : 'psql';
  // CREATE DATABASE cannot run in a DO block or a function; the SELECT + \gexec form
  // creates it only when missing.
  const sql = `SELECT 'CREATE DATABASE ${name}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${name}')\\gexec`;
  execFileSync(psql, ['-q', '-v', 'ON_ERROR_STOP=1', '-d', adminUrl], { input: sql, stdio: ['pipe', 'ignore', 'pipe'] });
}
