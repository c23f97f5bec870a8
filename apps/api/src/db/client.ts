import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { PrismaClient as PostgresPrismaClient } from '../generated/prisma-postgresql/client.ts';
import { databaseProvider, type DatabaseProvider } from './provider.ts';
import { absoluteSqliteUrl } from './sqlite-url.ts';
import { registerSqliteConnection, type SqliteConnection } from './direct-read.ts';
import { cacheStatements, databaseOf } from './statement-cache.ts';

/**
 * One client type for the whole app: the SQLite client's. The PostgreSQL client is
 * generated from the same models (prisma/postgresql/schema.prisma differs only in its
 * provider), so its API is the same; typing both as the SQLite one keeps code to what
 * both engines do (no PostgreSQL-only filters creep in).
 */
export type { PrismaClient };
export { Prisma } from '../generated/prisma/client.ts';
export type {
  AccessRequest,
  AccessRequestStatus,
  Alert,
  CryptoLog,
  EncryptedFile,
  EncryptionAlgorithm,
  RefreshToken,
  RotationJob,
  User,
  UserRole,
  UserStatus,
} from '../generated/prisma/client.ts';
export type { DatabaseProvider } from './provider.ts';

/** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Per-connection settings, run on every connection the adapter opens (pragmas other
 * than journal_mode do not persist in the file):
 * - WAL: readers no longer block the writer or each other. Persistent once set.
 * - synchronous FULL: a committed row (an audit record, a revocation) survives power
 *   loss, not just a process crash; the request rate is bounded by KDF work anyway.
 * - foreign_keys: SQLite ships with them off; the schema's relations rely on them.
 */
const CONNECTION_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON']
  .map((pragma) => `PRAGMA ${pragma};`)
  .join('\n');

/** Connections each process keeps to PostgreSQL at most (node-postgres pool size). */
export const POSTGRES_POOL_MAX = 10;

const providers = new WeakMap<object, DatabaseProvider>();

let postgres: { PrismaPg: typeof PrismaPg; PrismaClient: typeof PostgresPrismaClient } | undefined;

/**
 * Loads what a URL's engine needs beyond SQLite: PostgreSQL's driver adapter and its
 * generated client are imported only by a process that uses them (the embedded default
 * keeps them out of memory). Idempotent; a no-op for a SQLite URL.
 */
export async function loadDatabaseDriver(databaseUrl: string): Promise<void> {
  if (postgres || databaseProvider(databaseUrl) !== 'postgresql') return;
  const [adapter, client] = await Promise.all([import('@prisma/adapter-pg'), import('../generated/prisma-postgresql/client.ts')]);
  postgres ??= { PrismaPg: adapter.PrismaPg, PrismaClient: client.PrismaClient };
}

/** loadDatabaseDriver, then createPrismaClient: what a process opening its database calls. */
export async function openPrismaClient(databaseUrl: string): Promise<PrismaClient> {
  await loadDatabaseDriver(databaseUrl);
  return createPrismaClient(databaseUrl);
}

/**
 * The app's Prisma client for DATABASE_URL: a SQLite file (better-sqlite3) or
 * PostgreSQL (node-postgres pool; loadDatabaseDriver first). Apply migrations
 * (applyMigrations) first: on SQLite the migration engine needs the file to itself.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  const provider = databaseProvider(databaseUrl);
  let client: PrismaClient;
  if (provider === 'postgresql') {
    if (!postgres) throw new Error('loadDatabaseDriver(DATABASE_URL) must run before a PostgreSQL client is made');
    const adapter = new postgres.PrismaPg({ connectionString: databaseUrl, max: POSTGRES_POOL_MAX });
    client = new postgres.PrismaClient({ adapter }) as unknown as PrismaClient;
  } else {
    const url = absoluteSqliteUrl(databaseUrl);
    const connection: SqliteConnection = { database: null };
    const adapter = withConnectionPragmas(new PrismaBetterSqlite3({ url, timeout: BUSY_TIMEOUT_MS }), connection);
    client = new PrismaClient({ adapter });
    registerSqliteConnection(client, connection);
  }
  providers.set(client, provider);
  return client;
}

/**
 * Which engine a client talks to, for the few raw statements whose SQL differs (type
 * casts of bound parameters); everything else goes through Prisma's query builder.
 */
export function providerOf(prisma: PrismaClient): DatabaseProvider {
  const provider = providers.get(prisma);
  if (provider === undefined) throw new Error('not a client made by createPrismaClient');
  return provider;
}

/**
 * The adapter constructs its better-sqlite3 handle internally and offers no hook for
 * pragmas, so the factory is wrapped: each new connection runs the pragmas before
 * Prisma sees it, its statements are cached (statement-cache.ts), and it is handed to
 * the hot-path reads (direct-read.ts).
 */
function withConnectionPragmas(factory: SqlDriverAdapterFactory, connection: SqliteConnection): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const adapter = await factory.connect();
      try {
        await adapter.executeScript(CONNECTION_PRAGMAS);
        const database = databaseOf(adapter);
        if (database !== null) cacheStatements(database);
        connection.database = database;
      } catch (error) {
        await adapter.dispose();
        throw error;
      }
      return adapter;
    },
  };
}
