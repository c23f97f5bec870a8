import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { migrateDeploy, MigrationError } from '../../src/db/schema-engine.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const committedMigrations = path.join(repoRoot, 'prisma/migrations');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sfe-runner-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

const url = (name: string) => `file:${path.join(tmp, `${name}.db`)}`;

/** Every table, index and column as SQLite describes it (the migrations' result). */
function schemaOf(databaseUrl: string): string[] {
  const db = new Database(databaseUrl.slice('file:'.length), { readonly: true });
  try {
    return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ sql: string | null }>).map(
      (row) => JSON.stringify(row),
    );
  } finally {
    db.close();
  }
}

function history(databaseUrl: string) {
  const db = new Database(databaseUrl.slice('file:'.length), { readonly: true });
  try {
    return db.prepare('SELECT migration_name, checksum, finished_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name').all() as Array<{
      migration_name: string;
      checksum: string;
      finished_at: string | null;
      applied_steps_count: number;
      logs: string | null;
    }>;
  } finally {
    db.close();
  }
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error as MigrationError,
  );

describe('the serving process applies migrations without the schema engine', () => {
  it('builds the same schema and history as Prisma\'s engine, which then finds nothing to do', async () => {
    const byRunner = url('runner');
    const byEngine = url('engine');
    const applied = await applyMigrations({ databaseUrl: byRunner, migrationsDir: committedMigrations });
    expect(applied.applied.length).toBeGreaterThan(1);
    await migrateDeploy({ databaseUrl: byEngine, migrationsDir: committedMigrations });
    expect(schemaOf(byRunner)).toEqual(schemaOf(byEngine));
    const [runnerHistory, engineHistory] = [history(byRunner), history(byEngine)];
    expect(runnerHistory.map(({ migration_name, checksum, applied_steps_count }) => ({ migration_name, checksum, applied_steps_count }))).toEqual(
      engineHistory.map(({ migration_name, checksum, applied_steps_count }) => ({ migration_name, checksum, applied_steps_count })),
    );
    for (const row of runnerHistory) expect(row.finished_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    // Prisma's own deploy accepts the runner's history as up to date.
    expect((await migrateDeploy({ databaseUrl: byRunner, migrationsDir: committedMigrations })).applied).toEqual([]);
    expect((await applyMigrations({ databaseUrl: byRunner, migrationsDir: committedMigrations })).applied).toEqual([]);
  });

  it('refuses a migration edited after it was applied', async () => {
    const dir = path.join(tmp, 'edited');
    await cp(committedMigrations, dir, { recursive: true });
    const databaseUrl = url('edited');
    await applyMigrations({ databaseUrl, migrationsDir: dir });
    const first = history(databaseUrl)[0]!.migration_name;
    await writeFile(path.join(dir, first, 'migration.sql'), '-- changed\n', { flag: 'a' });
    const error = await refusal(applyMigrations({ databaseUrl, migrationsDir: dir }));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error?.code).toBe('MIGRATION_MODIFIED');
    expect(error?.message).toContain(first);
  });

  it('rolls a failing migration back, records it, and refuses to deploy until someone resolves it', async () => {
    const dir = path.join(tmp, 'failing');
    await cp(committedMigrations, dir, { recursive: true });
    await mkdir(path.join(dir, '29991231000000_broken'));
    await writeFile(path.join(dir, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE "half_done" ("id" TEXT);\nTHIS IS NOT SQL;\n');
    const databaseUrl = url('failing');
    const error = await refusal(applyMigrations({ databaseUrl, migrationsDir: dir }));
    expect(error?.code).toBe('MIGRATION_FAILED');
    expect(error?.message).toContain('29991231000000_broken');
    expect(schemaOf(databaseUrl).some((row) => row.includes('half_done'))).toBe(false);
    const broken = history(databaseUrl).find((row) => row.migration_name === '29991231000000_broken');
    expect(broken).toMatchObject({ finished_at: null });
    expect(broken?.logs).toMatch(/syntax error/);
    expect((await refusal(applyMigrations({ databaseUrl, migrationsDir: dir })))?.code).toBe('MIGRATION_FAILED');
  });

  it('refuses a database that has migrations the folder does not', async () => {
    const dir = path.join(tmp, 'extra');
    await cp(committedMigrations, dir, { recursive: true });
    await mkdir(path.join(dir, '29991231000001_extra'));
    await writeFile(path.join(dir, '29991231000001_extra', 'migration.sql'), 'CREATE TABLE "extra" ("id" TEXT);\n');
    const databaseUrl = url('extra');
    await applyMigrations({ databaseUrl, migrationsDir: dir });
    const error = await refusal(applyMigrations({ databaseUrl, migrationsDir: committedMigrations }));
    expect(error?.code).toBe('HISTORY_DIVERGED');
  });
});
