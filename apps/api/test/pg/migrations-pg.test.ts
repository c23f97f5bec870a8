import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeDataDir } from '../helpers/app.ts';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { MIGRATIONS_DIRS, SCHEMA_PATHS } from '../../src/db/provider.ts';
import { checkMigrations, migrateDeploy } from '../../src/db/schema-engine.ts';
import { testDatabaseUrl } from '../helpers/database.ts';

/** The serving process's runner against Prisma's own engine, on PostgreSQL. */
async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const SCHEMA_SQL = `
  SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL
  SELECT 'index', indexname, indexdef, '', '', '', NULL FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT 'enum', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '', '', '', NULL
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
  ORDER BY 1, 2`;

const database = async (name: string) => {
  const url = testDatabaseUrl(`${await makeDataDir()}/${name}`);
  if (!url) throw new Error('the api-pg project provides the server');
  return url;
};

describe('migrations on PostgreSQL', { timeout: 180_000 }, () => {
  it("the runner builds the same schema and history table as Prisma's engine, which then finds nothing to do", async () => {
    const [byRunner, byEngine] = [await database('runner'), await database('engine')];
    const applied = await applyMigrations({ databaseUrl: byRunner });
    expect(applied.applied.length).toBeGreaterThan(0);
    await migrateDeploy({ databaseUrl: byEngine, migrationsDir: MIGRATIONS_DIRS.postgresql });
    expect(await query(byRunner, SCHEMA_SQL)).toEqual(await query(byEngine, SCHEMA_SQL));

    const history = (url: string) => query<{ migration_name: string; checksum: string; steps: number; done: boolean }>(
      url,
      'SELECT migration_name, checksum, applied_steps_count AS steps, finished_at IS NOT NULL AS done FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(await history(byRunner)).toEqual(await history(byEngine));
    expect((await migrateDeploy({ databaseUrl: byRunner, migrationsDir: MIGRATIONS_DIRS.postgresql })).applied).toEqual([]);
    expect((await applyMigrations({ databaseUrl: byRunner })).applied).toEqual([]);
  });

  it('replicas starting together apply each migration once (advisory lock)', async () => {
    const url = await database('together');
    const runs = await Promise.all([applyMigrations({ databaseUrl: url }), applyMigrations({ databaseUrl: url }), applyMigrations({ databaseUrl: url })]);
    const all = runs.flatMap((r) => r.applied);
    expect(new Set(all).size).toBe(all.length);
    const rows = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM "_prisma_migrations"');
    expect(Number(rows[0]?.n)).toBe(all.length);
  });

  it('the check finds the committed PostgreSQL history in step with the schema, and out of step with a schema edited past it', async () => {
    const committed = await checkMigrations({ migrationsDir: MIGRATIONS_DIRS.postgresql, schemaPath: SCHEMA_PATHS.postgresql, databaseUrl: await database('check') });
    expect(committed).toEqual({ inSync: true, diffSql: '' });

    // A schema one model ahead of the committed history: what an edit without `db:migrate` leaves.
    const ahead = path.join(await makeDataDir(), 'schema.prisma');
    await writeFile(ahead, `${await readFile(SCHEMA_PATHS.postgresql, 'utf8')}\nmodel NotMigrated {\n  id String @id\n}\n`);
    const result = await checkMigrations({ migrationsDir: MIGRATIONS_DIRS.postgresql, schemaPath: ahead, databaseUrl: await database('check-behind') });
    expect(result.inSync).toBe(false);
    // The SQL that would bring the history up to the schema, in PostgreSQL's dialect.
    expect(result.diffSql).toMatch(/CREATE TABLE "NotMigrated"/);
  });
});
