/**
 * Migrations for the app database, through Prisma's wasm schema engine (see
 * prisma/README.md for why the stock `prisma migrate` is not used here).
 *
 *   tsx prisma/scripts/migrate.ts dev --name <name> [--accept-data-loss]
 *   tsx prisma/scripts/migrate.ts deploy
 *   tsx prisma/scripts/migrate.ts check
 *   tsx prisma/scripts/migrate.ts reset --force
 *
 * DATABASE_URL defaults to file:<repo>/data/sfe.db. --schema and --migrations point at
 * another schema file or migrations folder (tests, experiments). --verbose prints the
 * engine's log lines to stderr. Exit codes: 0 ok, 1 failure (or check out of sync), 2 usage.
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
import { absoluteSqliteUrl } from '../../apps/api/src/db/sqlite-url.ts';

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
      schema: { type: 'string', default: path.join(root, 'prisma/schema.prisma') },
      migrations: { type: 'string', default: path.join(root, 'prisma/migrations') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0] ?? ''}`);

  const schemaPath = path.resolve(values.schema);
  const migrationsDir = path.resolve(values.migrations);
  const databaseUrl = absoluteSqliteUrl(process.env.DATABASE_URL ?? `file:${path.join(root, 'data/sfe.db')}`);
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
      return 0;
    }
    case 'check': {
      const { inSync, diffSql } = await checkMigrations({ migrationsDir, schemaPath, onLog });
      if (inSync) {
        out(`Migrations match ${schemaPath}`);
        return 0;
      }
      process.stdout.write(diffSql.endsWith('\n') ? diffSql : `${diffSql}\n`);
      process.stderr.write(`migrate: migrations do not match ${schemaPath}; run 'dev --name <name>' (SQL above)\n`);
      return 1;
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
