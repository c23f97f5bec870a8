import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  applyPending,
  assertHistoryDeployable,
  devDiagnostic,
  diagnose,
  MigrationError,
  NO_FILTERS,
} from './migration-history.ts';
import { migrationSlug, orderedMigrationName, readMigrationList, writeMigration } from './migrations-dir.ts';
import { withSchemaEngine } from './schema-engine-wasm.ts';
import pg from 'pg';
import { createPostgresMigrationAdapterFactory } from './postgres-migration-adapter.ts';
import { databaseProvider } from './provider.ts';
import { createSqliteMigrationAdapterFactory } from './sqlite-migration-adapter.ts';
import { absoluteSqliteUrl, sqliteFilePath } from './sqlite-url.ts';

/**
 * `prisma migrate deploy | dev | diff` for the app's database (SQLite or PostgreSQL, by
 * the URL), driven through
 * Prisma's wasm schema engine (the native engine cannot be downloaded here; see
 * prisma/README.md). Migration folders, checksums and the `_prisma_migrations` table
 * all come from the engine, so the stock Prisma CLI accepts the same history.
 *
 * SQLite lets one writer in at a time and the engine locks the file exclusively while
 * it works: run these before the app opens its client, never alongside it.
 */

export { MigrationError, type MigrationErrorCode } from './migration-history.ts';
export { migrationSlug } from './migrations-dir.ts';
export { SchemaEngineError } from './schema-engine-wasm.ts';

export interface EngineLogOption {
  /** Receives the engine's JSON log lines; nothing is printed when absent. */
  onLog?: (line: string) => void;
}

export interface MigrateDeployOptions extends EngineLogOption {
  databaseUrl: string;
  migrationsDir: string;
}

export interface MigrateDevOptions extends EngineLogOption {
  databaseUrl: string;
  migrationsDir: string;
  schemaPath: string;
  /** Free-form name; slugged as `prisma migrate dev` does and prefixed with a timestamp. */
  name: string;
  /** Create the migration even when it drops data (the warnings are still returned). */
  acceptDataLoss?: boolean;
}

export interface MigrateDevResult {
  /** Folder name of the new migration, or null when the schema needed none. */
  created: string | null;
  /** Every migration applied by this run, pending ones first, the new one last. */
  applied: string[];
  /** Data-loss warnings of the new migration (empty unless `acceptDataLoss`). */
  warnings: string[];
}

export interface CheckMigrationsOptions extends EngineLogOption {
  migrationsDir: string;
  schemaPath: string;
  /**
   * PostgreSQL only: an empty scratch database the engine may use (it replays the
   * migrations on a shadow database created next to it). SQLite needs none.
   */
  databaseUrl?: string;
}

export interface CheckMigrationsResult {
  inSync: boolean;
  /** SQL that would take the migrated schema to schema.prisma; empty when in sync. */
  diffSql: string;
}

/** Applies the committed migrations that the database has not seen. */
export async function migrateDeploy(options: MigrateDeployOptions): Promise<{ applied: string[] }> {
  const migrationsList = await readMigrationList(options.migrationsDir);
  if (migrationsList.migrationDirectories.length === 0) {
    throw new MigrationError('NO_MIGRATIONS', `No migrations found in ${migrationsList.baseDir}`);
  }
  const databaseUrl = await prepareDatabaseFile(options.databaseUrl);
  return withSchemaEngine(engineOptions(databaseUrl, undefined, options), async (engine) => {
    assertHistoryDeployable(await diagnose(engine, migrationsList));
    return { applied: await applyPending(engine, migrationsList) };
  });
}

/**
 * The `prisma migrate dev` sequence, minus its interactive prompts: apply pending
 * migrations, generate a migration from the difference between that state and
 * schema.prisma, write it, apply it. Never resets the database on its own.
 */
export async function migrateDev(options: MigrateDevOptions): Promise<MigrateDevResult> {
  const slugName = migrationSlug(options.name);
  if (slugName === '') throw new TypeError('A migration name needs at least one letter or digit');
  const schemaFile = await readSchema(options.schemaPath);
  const schema = { files: [schemaFile] };
  const databaseUrl = await prepareDatabaseFile(options.databaseUrl);
  return withSchemaEngine(engineOptions(databaseUrl, schemaFile, options), async (engine) => {
    let migrationsList = await readMigrationList(options.migrationsDir);
    // The engine's evaluateDataLoss/createMigration read state that devDiagnostic
    // fills in, hence diagnose -> apply -> diagnose before evaluating.
    await devDiagnostic(engine, migrationsList);
    const applied = await applyPending(engine, migrationsList);
    await devDiagnostic(engine, migrationsList);

    const evaluation = await engine.evaluateDataLoss({ migrationsList, schema, filters: NO_FILTERS });
    if (evaluation.unexecutableSteps.length > 0) {
      const message = feedback('The migration cannot be applied', evaluation.unexecutableSteps);
      throw new MigrationError('UNEXECUTABLE', message);
    }
    const warnings = evaluation.warnings.map((warning) => warning.message);
    if (warnings.length > 0 && options.acceptDataLoss !== true) {
      throw new MigrationError('DATA_LOSS', feedback('The migration would lose data', evaluation.warnings));
    }

    const created = await engine.createMigration({
      draft: false,
      migrationName: slugName,
      migrationsList,
      schema,
      filters: NO_FILTERS,
    });
    if (created.migrationScript === null) return { created: null, applied, warnings };
    const name = orderedMigrationName(created.generatedMigrationName, migrationsList);
    await writeMigration({
      migrationsDir: options.migrationsDir,
      name,
      script: created.migrationScript,
      extension: created.extension,
      connectorType: created.connectorType,
    });
    migrationsList = await readMigrationList(options.migrationsDir);
    const appliedNew = await applyPending(engine, migrationsList);
    return { created: name, applied: [...applied, ...appliedNew], warnings };
  });
}

/**
 * Replays the committed migrations on an in-memory database and diffs the result
 * against schema.prisma: in sync means the migrations build exactly the schema the
 * generated client was made from.
 */
export async function checkMigrations(options: CheckMigrationsOptions): Promise<CheckMigrationsResult> {
  const schemaFile = await readSchema(options.schemaPath);
  const migrationsList = await readMigrationList(options.migrationsDir);
  if (migrationsList.migrationDirectories.length === 0) {
    throw new MigrationError('NO_MIGRATIONS', `No migrations found in ${migrationsList.baseDir}`);
  }
  return withSchemaEngine(engineOptions(options.databaseUrl ?? ':memory:', schemaFile, options), async (engine) => {
    const result = await engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: [schemaFile] },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    });
    // exitCode 2 is the engine's "the two sides differ" (`prisma migrate diff --exit-code`).
    const inSync = result.exitCode === 0;
    return { inSync, diffSql: inSync ? '' : (result.stdout ?? '') };
  });
}

/**
 * Deletes the database file and its journal/WAL companions. The engine's own `reset`
 * only empties tables on SQLite, and leaves pragmas such as journal_mode behind.
 */
export async function resetDatabase(databaseUrl: string): Promise<void> {
  if (databaseProvider(databaseUrl) === 'postgresql') {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
    } finally {
      await client.end();
    }
    return;
  }
  const file = sqliteFilePath(databaseUrl);
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    await rm(file + suffix, { force: true });
  }
}

function engineOptions(
  databaseUrl: string,
  schemaFile: { path: string; content: string } | undefined,
  options: EngineLogOption,
) {
  return {
    adapterFactory:
      databaseUrl !== ':memory:' && databaseProvider(databaseUrl) === 'postgresql'
        ? createPostgresMigrationAdapterFactory(databaseUrl)
        : createSqliteMigrationAdapterFactory(databaseUrl),
    schemaFiles: schemaFile ? ([[schemaFile.path, schemaFile.content]] as const) : undefined,
    onLog: options.onLog,
  };
}

/** Absolute URL, with the database's folder created so SQLite can create the file. */
async function prepareDatabaseFile(databaseUrl: string): Promise<string> {
  if (databaseProvider(databaseUrl) === 'postgresql') return databaseUrl;
  const url = absoluteSqliteUrl(databaseUrl);
  await mkdir(path.dirname(sqliteFilePath(url)), { recursive: true });
  return url;
}

async function readSchema(schemaPath: string): Promise<{ path: string; content: string }> {
  const absolute = path.resolve(schemaPath);
  return { path: absolute, content: await readFile(absolute, 'utf8') };
}

function feedback(summary: string, items: ReadonlyArray<{ message: string }>): string {
  return `${summary}: ${items.map((item) => item.message).join('; ')}`;
}
