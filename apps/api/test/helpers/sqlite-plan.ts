import path from 'node:path';
import Database from 'better-sqlite3';
import type { Prisma } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { makeDataDir } from './app.ts';

/** A fresh SQLite file with every committed migration applied, opened directly. */
export async function migratedSqlite(): Promise<Database.Database> {
  const file = path.join(await makeDataDir(), 'sfe.db');
  await applyMigrations({ databaseUrl: `file:${file}` });
  return new Database(file);
}

/** A Prisma.Sql statement's text and values as better-sqlite3 binds them (Dates as ISO text). */
export function bindable(query: Prisma.Sql): { sql: string; values: unknown[] } {
  return { sql: query.sql, values: query.values.map((value) => (value instanceof Date ? value.toISOString() : value)) };
}

/** SQLite's EXPLAIN QUERY PLAN for `query`, one step per line. */
export function queryPlan(db: Database.Database, query: Prisma.Sql): string[] {
  const { sql, values } = bindable(query);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>).map((row) => row.detail);
}
