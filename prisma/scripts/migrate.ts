/**
 * Migrations for the app database, through Prisma's wasm schema engine (see
 * prisma/README.md for why the stock `prisma migrate` is not used here).
 *
 *   tsx prisma/scripts/migrate.ts dev --name <name> [--accept-data-loss]
 *   tsx prisma/scripts/migrate.ts deploy
 *   tsx prisma/scripts/migrate.ts check
 *   tsx prisma/scripts/migrate.ts reset --force
 *
 * DATABASE_URL defaults to file:<repo>/data/sfe.db; a postgresql:// URL selects the
 * PostgreSQL schema (prisma/postgresql/schema.prisma) and its migrations for deploy and
 * reset. Both providers keep their own history, so `dev` writes a migration for each
 * (the PostgreSQL one on a throwaway server, see pg-cluster.ts) and `check` checks
 * both, and that prisma/postgresql/schema.prisma is derived from prisma/schema.prisma.
 * --schema and --migrations point at another schema file or migrations folder (tests,
 * experiments; SQLite only). --verbose prints the engine's log lines to stderr.
 * Exit codes: 0 ok, 1 failure (or check out of sync), 2 usage.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  checkMigrations,
  migrateDeploy,
  migrateDev,
  MigrationError,
  resetDatabase,
} from '../../apps/api/src/db/schema-engine.ts';
import { startPgCluster, type PgCluster } from '../../apps/api/src/db/pg-cluster.ts';
import { databaseProvider, MIGRATIONS_DIRS, SCHEMA_PATHS } from '../../apps/api/src/db/provider.ts';
import { absoluteSqliteUrl } from '../../apps/api/src/db/sqlite-url.ts';
import { postgresSchemaFrom } from './postgres-schema.ts';
import { readFile, writeFile } from 'node:fs/promises';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const USAGE =
  'usage: migrate.ts dev --name <name> [--accept-data-loss] | deploy | check | reset --force\n' +
  '       options: --schema <file> --migrations <dir> --verbose';

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'accept-data-loss': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      schema: { type: 'string' },
      migrations: { type: 'string' },
      'sqlite-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0] ?? ''}`);

  const rawUrl = process.env.DATABASE_URL ?? `file:${path.join(root, 'data/sfe.db')}`;
  const provider = databaseProvider(rawUrl);
  const databaseUrl = provider === 'sqlite' ? absoluteSqliteUrl(rawUrl) : rawUrl;
  const schemaPath = path.resolve(values.schema ?? SCHEMA_PATHS[provider]);
  const migrationsDir = path.resolve(values.migrations ?? MIGRATIONS_DIRS[provider]);
  // The second provider follows along unless the run points at other files.
  const withPostgres = provider === 'sqlite' && values.schema === undefined && values.migrations === undefined && !values['sqlite-only'];
  const onLog = values.verbose
    ? (line: string) => process.stderr.write(line.endsWith('\n') ? line : `${line}\n`)
    : undefined;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  switch (command) {
    case 'deploy': {
      const { applied } = await migrateDeploy({ databaseUrl, migrationsDir, onLog });
      out(applied.length > 0 ? `Applied ${applied.join(', ')}` : 'Database is up to date');
      return 0;
    }
    case 'dev': {
      if (values.name === undefined) throw new UsageError('dev needs --name <name>');
      const result = await migrateDev({
        databaseUrl,
        migrationsDir,
        schemaPath,
        name: values.name,
        acceptDataLoss: values['accept-data-loss'],
        onLog,
      });
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (result.applied.length > 0) out(`Applied ${result.applied.join(', ')}`);
      out(result.created ? `Created ${path.join(migrationsDir, result.created)}` : 'Schema unchanged: nothing created');
      if (withPostgres) {
        await writePostgresSchema();
        const created = await withScratchPostgres(async (url) => {
          const pgResult = await migrateDev({
            databaseUrl: url,
            migrationsDir: MIGRATIONS_DIRS.postgresql,
            schemaPath: SCHEMA_PATHS.postgresql,
            name: values.name ?? '',
            acceptDataLoss: values['accept-data-loss'],
            onLog,
          });
          for (const warning of pgResult.warnings) process.stderr.write(`warning (postgresql): ${warning}\n`);
          return pgResult.created;
        });
        out(created ? `Created ${path.join(MIGRATIONS_DIRS.postgresql, created)}` : 'PostgreSQL schema unchanged: nothing created');
      }
      return 0;
    }
    case 'check': {
      const checks: Array<{ schemaPath: string; run: () => ReturnType<typeof checkMigrations> }> = [];
      if (provider === 'sqlite') {
        checks.push({ schemaPath, run: () => checkMigrations({ migrationsDir, schemaPath, onLog }) });
      }
      if (withPostgres || provider === 'postgresql') {
        const expected = postgresSchemaFrom(await readFile(SCHEMA_PATHS.sqlite, 'utf8'));
        if ((await readFile(SCHEMA_PATHS.postgresql, 'utf8').catch(() => '')) !== expected) {
          process.stderr.write(`migrate: ${SCHEMA_PATHS.postgresql} is not derived from ${SCHEMA_PATHS.sqlite}; run 'pnpm db:generate'\n`);
          return 1;
        }
        const pgMigrations = provider === 'postgresql' ? migrationsDir : MIGRATIONS_DIRS.postgresql;
        const check = (url: string) => checkMigrations({ migrationsDir: pgMigrations, schemaPath: SCHEMA_PATHS.postgresql, databaseUrl: url, onLog });
        checks.push({
          schemaPath: SCHEMA_PATHS.postgresql,
          run: () => (provider === 'postgresql' ? check(databaseUrl) : withScratchPostgres(check)),
        });
      }
      let failed = false;
      for (const item of checks) {
        const { inSync, diffSql } = await item.run();
        if (inSync) {
          out(`Migrations match ${item.schemaPath}`);
          continue;
        }
        failed = true;
        process.stdout.write(diffSql.endsWith('\n') ? diffSql : `${diffSql}\n`);
        process.stderr.write(`migrate: migrations do not match ${item.schemaPath}; run 'dev --name <name>' (SQL above)\n`);
      }
      return failed ? 1 : 0;
    }
    case 'reset': {
      if (!values.force) throw new UsageError('reset deletes the database and all its data; confirm with --force');
      await resetDatabase(databaseUrl);
      const { applied } = await migrateDeploy({ databaseUrl, migrationsDir, onLog });
      out(`Database recreated; applied ${applied.join(', ')}`);
      return 0;
    }
    default:
      throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
}

async function writePostgresSchema(): Promise<void> {
  await writeFile(SCHEMA_PATHS.postgresql, postgresSchemaFrom(await readFile(SCHEMA_PATHS.sqlite, 'utf8')), 'utf8');
}

/**
 * An empty database on a throwaway PostgreSQL server, for authoring and checking the
 * PostgreSQL migrations without touching any real database.
 */
async function withScratchPostgres<T>(work: (url: string) => Promise<T>): Promise<T> {
  let cluster: PgCluster | undefined;
  try {
    cluster = await startPgCluster();
    return await work(await cluster.createDatabase('sfe_scratch'));
  } finally {
    await cluster?.stop();
  }
}

const HINTS: Partial<Record<MigrationError['code'], string>> = {
  DATA_LOSS: 're-run with --accept-data-loss to create it anyway',
  RESET_REQUIRED: "on a development database, 'migrate.ts reset --force' recreates it",
};

function isParseArgsError(error: unknown): error is Error {
  const code: unknown = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || isParseArgsError(error)) {
    process.stderr.write(`migrate: ${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof MigrationError ? HINTS[error.code] : undefined;
    process.stderr.write(`migrate: ${message}${hint ? ` (${hint})` : ''}\n`);
    process.exitCode = 1;
  }
}
