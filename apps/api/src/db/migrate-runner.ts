import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { readMigrationList } from './migrations-dir.ts';
import { MigrationError } from './migration-history.ts';
import { BUSY_TIMEOUT_MS } from './client.ts';
import { databaseProvider, MIGRATIONS_DIRS } from './provider.ts';
import { sqliteFilePath } from './sqlite-url.ts';

/**
 * `prisma migrate deploy` without the schema engine, for the serving process: applies
 * the committed migration.sql files the database has not seen and records each in
 * `_prisma_migrations` exactly as Prisma does (same table, SHA-256 checksum of the
 * file, ISO timestamps), so Prisma's own tools accept the history afterwards. The wasm
 * engine (tens of MiB that would stay resident) remains a development tool for
 * authoring migrations and `db:check`.
 *
 * Refuses, like deploy, a history that needs a person: a migration that failed
 * earlier, one edited after it was applied, or applied ones missing from the folder.
 *
 * SQLite and PostgreSQL each have their own folder (MIGRATIONS_DIRS) and Prisma's DDL
 * for the history table. On PostgreSQL the whole run holds the advisory lock Prisma's
 * deploy takes, so replicas starting together apply each migration once.
 */

// Prisma's own DDL for the history table, verbatim, per provider.
const SQLITE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);`;
const POSTGRES_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;
// The advisory lock key `prisma migrate deploy` holds on PostgreSQL.
const PRISMA_ADVISORY_LOCK = 72707369;

interface HistoryRow {
  id: string;
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** The few statements the runner needs, with `?` placeholders (numbered for PostgreSQL). */
interface HistoryConnection {
  exec(script: string): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<HistoryRow[]>;
  run(sql: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** Prisma writes `2026-12-01T22:37:43.953+00:00`. */
const timestamp = () => new Date().toISOString().replace('Z', '+00:00');
const checksumOf = (script: string) => createHash('sha256').update(script, 'utf8').digest('hex');

export async function applyMigrations(options: { databaseUrl: string; migrationsDir?: string }): Promise<{ applied: string[] }> {
  const provider = databaseProvider(options.databaseUrl);
  const list = await readMigrationList(options.migrationsDir ?? MIGRATIONS_DIRS[provider]);
  const migrations = list.migrationDirectories.map((dir) => {
    const content = dir.migrationFile.content;
    if (content.tag !== 'ok') throw new MigrationError('UNEXECUTABLE', `Migration ${dir.path} cannot be read: ${content.value}`);
    return { name: dir.path, script: content.value };
  });
  if (migrations.length === 0) throw new MigrationError('NO_MIGRATIONS', `No migrations found in ${list.baseDir}`);

  const db = provider === 'postgresql' ? await openPostgres(options.databaseUrl) : openSqlite(options.databaseUrl);
  try {
    const rows = await db.query('SELECT id, migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
    const live = rows.filter((row) => row.rolled_back_at === null);
    const failed = live.filter((row) => row.finished_at === null).map((row) => row.migration_name);
    if (failed.length > 0) {
      throw new MigrationError('MIGRATION_FAILED', `Migration ${failed.join(', ')} failed earlier and must be resolved by hand before deploying`);
    }
    const applied = new Map(live.map((row) => [row.migration_name, row.checksum]));
    const edited = migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== checksumOf(m.script)).map((m) => m.name);
    if (edited.length > 0) {
      throw new MigrationError('MIGRATION_MODIFIED', `Migration ${edited.join(', ')} was modified after it was applied; restore the committed file`);
    }
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied.keys()].filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new MigrationError('HISTORY_DIVERGED', `The database has migrations that are not in the migrations folder: ${unknown.join(', ')}`);
    }

    const done: string[] = [];
    for (const migration of migrations.filter((m) => !applied.has(m.name))) {
      const id = randomUUID();
      await db.run('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, 0)', [
        id,
        checksumOf(migration.script),
        migration.name,
        timestamp(),
      ]);
      try {
        await db.exec('BEGIN');
        await db.exec(migration.script);
        await db.run('UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?', [timestamp(), id]);
        await db.exec('COMMIT');
      } catch (error) {
        await db.exec('ROLLBACK').catch(() => {});
        const message = error instanceof Error ? error.message : String(error);
        await db.run('UPDATE "_prisma_migrations" SET logs = ? WHERE id = ?', [message, id]);
        throw new MigrationError('MIGRATION_FAILED', `Migration ${migration.name} failed to apply: ${message}`, { cause: error });
      }
      done.push(migration.name);
    }
    return { applied: done };
  } finally {
    await db.close();
  }
}

function openSqlite(databaseUrl: string): HistoryConnection {
  const db = new Database(sqliteFilePath(databaseUrl), { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SQLITE_HISTORY_TABLE);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    exec: async (script) => {
      // A failed BEGIN/statement may already have ended the transaction.
      if (script === 'ROLLBACK' && !db.inTransaction) return;
      db.exec(script);
    },
    query: async (sql, params = []) => db.prepare(sql).all(...params) as HistoryRow[],
    run: async (sql, params) => {
      db.prepare(sql).run(...params);
    },
    close: async () => {
      db.close();
    },
  };
}

async function openPostgres(databaseUrl: string): Promise<HistoryConnection> {
  // Loaded only for PostgreSQL, like the client's adapter (db/client.ts).
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  try {
    // Session-level: held across the per-migration transactions until close().
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(POSTGRES_HISTORY_TABLE);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    exec: async (script) => {
      // No parameters: the simple query protocol, which runs a whole multi-statement script.
      await client.query(script);
    },
    query: async (sql, params = []) => (await client.query<HistoryRow>(numbered(sql), params)).rows,
    run: async (sql, params) => {
      await client.query(numbered(sql), params);
    },
    close: async () => {
      await client.end();
    },
  };
}
