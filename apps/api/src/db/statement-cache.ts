import type { Database, Statement } from 'better-sqlite3';

/**
 * Prisma's better-sqlite3 adapter calls `prepare(sql)` for every query and throws the
 * statement away: compiling the SQL again each time cost more than running it (a
 * primary-key lookup is microseconds in SQLite). Prisma's SQL for one operation is the
 * same text every time (values are bound), so prepared statements are kept per SQL
 * text, least recently used evicted.
 *
 * better-sqlite3 binds parameters to a statement once and for all (`bind()`), so the
 * adapter's `prepare(sql).bind(args)` is answered with a small view that passes `args`
 * to each call instead. Everything stays synchronous, as in the adapter, so no two
 * queries interleave on one statement.
 */

export const STATEMENT_CACHE_SIZE = 500;

type Args = unknown[];

/** What the adapter uses of a statement: `reader`, `columns()`, `run()`, `raw().all()`. */
class BoundView {
  readonly #statement: Statement<Args>;
  readonly #args: Args;

  constructor(statement: Statement<Args>, args: Args) {
    this.#statement = statement;
    this.#args = args;
  }

  get reader(): boolean {
    return this.#statement.reader;
  }

  columns() {
    return this.#statement.columns();
  }

  run() {
    return this.#statement.run(...this.#args);
  }

  get(): unknown {
    return this.#statement.get(...this.#args);
  }

  all(): unknown[] {
    return this.#statement.all(...this.#args);
  }

  raw(toggle = true): this {
    this.#statement.raw(toggle);
    return this;
  }
}

class CachedStatement extends BoundView {
  readonly #statement: Statement<Args>;

  constructor(statement: Statement<Args>) {
    super(statement, []);
    this.#statement = statement;
  }

  bind(...args: unknown[]): BoundView {
    // The adapter passes one array; better-sqlite3 itself also takes them spread.
    const values = args.length === 1 && Array.isArray(args[0]) ? (args[0] as Args) : args;
    return new BoundView(this.#statement, values);
  }
}

/** Makes `db.prepare` reuse compiled statements (per SQL text, LRU). */
export function cacheStatements(db: Database, capacity = STATEMENT_CACHE_SIZE): void {
  const prepare = db.prepare.bind(db) as (sql: string) => Statement<Args>;
  const cache = new Map<string, CachedStatement>();
  const cachedPrepare = (sql: string): CachedStatement => {
    let cached = cache.get(sql);
    if (cached === undefined) {
      cached = new CachedStatement(prepare(sql));
      if (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(sql);
    }
    cache.set(sql, cached);
    return cached;
  };
  Object.defineProperty(db, 'prepare', { value: cachedPrepare, configurable: true, writable: true });
}

/** The adapter keeps its better-sqlite3 handle as `client`; anything else is left alone. */
export function databaseOf(adapter: object): Database | null {
  const client = (adapter as { client?: unknown }).client;
  return typeof client === 'object' && client !== null && typeof (client as Database).prepare === 'function' && typeof (client as Database).pragma === 'function'
    ? (client as Database)
    : null;
}
