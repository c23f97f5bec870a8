import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.ts';
import { absoluteSqliteUrl } from './sqlite-url.ts';
import { cacheStatements, databaseOf } from './statement-cache.ts';

export type { PrismaClient };
export { Prisma } from '../generated/prisma/client.ts';
export type {
  AccessRequest,
  Alert,
  CryptoLog,
  EncryptedFile,
  RefreshToken,
  RotationJob,
  User,
} from '../generated/prisma/client.ts';

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

/**
 * The app's Prisma client over a SQLite file. Apply migrations (migrateDeploy) before
 * calling this: the migration engine needs the file to itself.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  const url = absoluteSqliteUrl(databaseUrl);
  const adapter = withConnectionPragmas(new PrismaBetterSqlite3({ url, timeout: BUSY_TIMEOUT_MS }));
  return new PrismaClient({ adapter });
}

/**
 * The adapter constructs its better-sqlite3 handle internally and offers no hook for
 * pragmas, so the factory is wrapped: each new connection runs the pragmas before
 * Prisma sees it, and its statements are cached (statement-cache.ts).
 */
function withConnectionPragmas(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const adapter = await factory.connect();
      try {
        await adapter.executeScript(CONNECTION_PRAGMAS);
        const database = databaseOf(adapter);
        if (database !== null) cacheStatements(database);
      } catch (error) {
        await adapter.dispose();
        throw error;
      }
      return adapter;
    },
  };
}
