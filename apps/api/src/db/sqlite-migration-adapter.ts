import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import {
  DriverAdapterError,
  isDriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type Transaction,
} from '@prisma/driver-adapter-utils';

/**
 * The driver adapter the wasm schema engine migrates through: Prisma's own
 * better-sqlite3 adapter with three fixes for how the 7.10 engine uses it.
 *
 * 1. When the engine replays migrations on the shadow database it sends each whole
 *    migration.sql through `executeRaw`, and better-sqlite3 prepares only single
 *    statements. Parameterless `executeRaw` on the shadow connection therefore goes to
 *    `executeScript` (SQLite's multi-statement `exec`). Statements with parameters
 *    are never scripts and keep going through `executeRaw`.
 * 2. The adapter reports SQLITE_BUSY (another process held the file past the busy
 *    timeout) as kind `SocketTimeout`, which the 7.10 engine cannot decode ("unknown
 *    variant `SocketTimeout`", no error code). It is passed on as the SQLite error it
 *    is, which the engine reports as P1008.
 * 3. The engine keeps its connections (and SQLite's lock on the file) open until it is
 *    garbage collected. Every connection handed out is remembered so that `disposeAll`
 *    can close them deterministically once an operation is over, before the app opens
 *    its own client on the same file.
 */
export interface MigrationAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /** Closes every connection the engine opened through this factory. */
  disposeAll(): Promise<void>;
}
export type SqliteMigrationAdapterFactory = MigrationAdapterFactory;

/**
 * @param url `file:/absolute/path.db`, or `:memory:` when the engine needs a database
 *   only to learn the dialect (diffing migrations against the schema).
 */
export function createSqliteMigrationAdapterFactory(url: string): SqliteMigrationAdapterFactory {
  // Shadow databases are in memory (the adapter's default): nothing to clean up on disk.
  const inner = new PrismaBetterSqlite3({ url });
  const open = new Set<SqlDriverAdapter>();

  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    reportBusyAsSqliteError(adapter);
    open.add(adapter);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (!open.delete(adapter)) return;
      await dispose();
    };
    return adapter;
  };

  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    async connect() {
      return track(await inner.connect());
    },
    async connectToShadowDb() {
      return track(scriptAwareExecuteRaw(await inner.connectToShadowDb()));
    },
    async disposeAll() {
      const errors: unknown[] = [];
      for (const adapter of [...open]) {
        await adapter.dispose().catch((error: unknown) => errors.push(error));
      }
      if (errors.length > 0) throw new AggregateError(errors, 'closing SQLite connections failed');
    },
  };
}

function scriptAwareExecuteRaw(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query: SqlQuery) => {
    if (query.args.length > 0) return executeRaw(query);
    await adapter.executeScript(query.sql);
    // `exec` reports no row count; the engine ignores it for DDL replay.
    return 0;
  };
  return adapter;
}

const SQLITE_BUSY = 5;

function busyAsSqliteError(error: unknown): unknown {
  if (!isDriverAdapterError(error) || error.cause.kind !== 'SocketTimeout') return error;
  return new DriverAdapterError({
    kind: 'sqlite',
    extendedCode: SQLITE_BUSY,
    message: error.cause.originalMessage ?? 'database is locked',
    originalCode: error.cause.originalCode,
    originalMessage: error.cause.originalMessage,
  });
}

/** `fn`, with busy errors translated; `await` inside `try` also catches synchronous throws. */
function translatingBusy<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw busyAsSqliteError(error);
    }
  };
}

function reportBusyAsSqliteError(adapter: SqlDriverAdapter): void {
  adapter.queryRaw = translatingBusy(adapter.queryRaw.bind(adapter));
  adapter.executeRaw = translatingBusy(adapter.executeRaw.bind(adapter));
  adapter.executeScript = translatingBusy(adapter.executeScript.bind(adapter));
  const startTransaction = translatingBusy(adapter.startTransaction.bind(adapter));
  adapter.startTransaction = async (isolationLevel) => {
    const transaction: Transaction = await startTransaction(isolationLevel);
    transaction.queryRaw = translatingBusy(transaction.queryRaw.bind(transaction));
    transaction.executeRaw = translatingBusy(transaction.executeRaw.bind(transaction));
    return transaction;
  };
}
