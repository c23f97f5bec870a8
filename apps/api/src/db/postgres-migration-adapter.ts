import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import type { MigrationAdapterFactory } from './sqlite-migration-adapter.ts';

/**
 * The driver adapter the wasm schema engine migrates PostgreSQL through: Prisma's pg
 * adapter with two fixes for how the 7.10 engine uses it.
 *
 * 1. The engine's catalog queries return columns of PostgreSQL's one-byte `"char"`
 *    type (OID 18), which the adapter refuses as an unsupported native type. They are
 *    read as text, which is what they are.
 * 2. The adapter's own shadow database is created with a pool whose connection string
 *    wins over the database name it sets, so the "shadow" would be the main database,
 *    and it drops the database while its pool still holds connections. Shadow
 *    databases are created and force-dropped here instead, uniquely named.
 * 3. The adapter runs a script by splitting it at every ";", which cuts a function body
 *    (dollar-quoted plpgsql, as a trigger needs) apart. The script goes to PostgreSQL
 *    whole instead, as one simple query, which is how the native engine sends it.
 *
 * Every pool opened is remembered so disposeAll() can close it once an operation ends.
 */

const CHAR_OID = 18;
const TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };

function charAsText<T>(result: T): T {
  for (const field of (result as QueryResultLike).fields ?? []) {
    if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return result;
}

type AnyFunction = (...args: unknown[]) => unknown;

/** `fn`, with every promised result passed through charAsText. */
function readingCharAsText(fn: AnyFunction): AnyFunction {
  return (...args) => {
    const result = fn(...args);
    return result instanceof Promise ? result.then(charAsText) : result;
  };
}

/** A pg.Pool whose results (direct or through a checked-out client) report `"char"` as text. */
function catalogPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 2 });
  const patchable = pool as unknown as { query: AnyFunction; connect: AnyFunction };
  patchable.query = readingCharAsText(pool.query.bind(pool) as AnyFunction);
  const connect = pool.connect.bind(pool) as AnyFunction;
  patchable.connect = (...args) => {
    const result = connect(...args);
    if (!(result instanceof Promise)) return result;
    return result.then((client: { query: AnyFunction }) => {
      client.query = readingCharAsText(client.query.bind(client));
      return client;
    });
  };
  return pool;
}

export function createPostgresMigrationAdapterFactory(databaseUrl: string): MigrationAdapterFactory {
  const open = new Set<{ dispose(): Promise<void> }>();

  const adapterFor = async (url: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> => {
    const pool = catalogPool(url);
    const adapter = await new PrismaPg(pool).connect();
    let disposed = false;
    const entry = {
      async dispose() {
        if (disposed) return;
        disposed = true;
        open.delete(entry);
        await pool.end();
        await onDispose?.();
      },
    };
    open.add(entry);
    adapter.dispose = () => entry.dispose();
    const failed = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);
    adapter.executeScript = async (script) => {
      try {
        await pool.query(script);
      } catch (error) {
        failed(error);
      }
    };
    return adapter;
  };

  const withAdmin = async (work: (client: pg.Client) => Promise<unknown>) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await work(client);
    } finally {
      await client.end();
    }
  };

  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => adapterFor(databaseUrl),
    async connectToShadowDb() {
      const name = `sfe_shadow_${randomUUID().replace(/-/g, '')}`;
      await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
      const url = new URL(databaseUrl);
      url.pathname = `/${name}`;
      return adapterFor(url.toString(), () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
    },
    async disposeAll() {
      const errors: unknown[] = [];
      for (const entry of [...open]) await entry.dispose().catch((error: unknown) => errors.push(error));
      if (errors.length > 0) throw new AggregateError(errors, 'closing PostgreSQL connections failed');
    },
  };
}
