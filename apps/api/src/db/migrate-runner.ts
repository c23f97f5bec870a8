import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { readMigrationList } from './migrations-dir.ts';
import { MigrationError } from './migration-history.ts';
import { BUSY_TIMEOUT_MS } from './client.ts';
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
 */

// Prisma's own DDL for the history table on SQLite, verbatim.
const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);`;

interface HistoryRow {
  id: string;
  migration_name: string;
  checksum: string;
  finished_at: string | null;
  rolled_back_at: string | null;
}

/** Prisma writes `2026-12-01T22:37:43.953+00:00`. */
const timestamp = () => new Date().toISOString().replace('Z', '+00:00');
const checksumOf = (script: string) => createHash('sha256').update(script, 'utf8').digest('hex');

export async function applyMigrations(options: { databaseUrl: string; migrationsDir: string }): Promise<{ applied: string[] }> {
  const list = await readMigrationList(options.migrationsDir);
  const migrations = list.migrationDirectories.map((dir) => {
    const content = dir.migrationFile.content;
    if (content.tag !== 'ok') throw new MigrationError('UNEXECUTABLE', `Migration ${dir.path} cannot be read: ${content.value}`);
    return { name: dir.path, script: content.value };
  });
  if (migrations.length === 0) throw new MigrationError('NO_MIGRATIONS', `No migrations found in ${list.baseDir}`);

  const db = new Database(sqliteFilePath(options.databaseUrl), { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.exec(HISTORY_TABLE);
    const rows = db.prepare('SELECT id, migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"').all() as HistoryRow[];
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
      db.prepare('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, 0)').run(
        id,
        checksumOf(migration.script),
        migration.name,
        timestamp(),
      );
      try {
        db.exec('BEGIN');
        db.exec(migration.script);
        db.prepare('UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?').run(timestamp(), id);
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        const message = error instanceof Error ? error.message : String(error);
        db.prepare('UPDATE "_prisma_migrations" SET logs = ? WHERE id = ?').run(message, id);
        throw new MigrationError('MIGRATION_FAILED', `Migration ${migration.name} failed to apply: ${message}`, { cause: error });
      }
      done.push(migration.name);
    }
    return { applied: done };
  } finally {
    db.close();
  }
}
