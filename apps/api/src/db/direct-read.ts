import Database from 'better-sqlite3';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';

/**
 * Reads on the per-request hot path (the session check, the file list) without Prisma's
 * query pipeline. Through Prisma even a raw statement costs ~0.25 ms of main-thread
 * time (request serialization, the interpreter, result mapping in both directions);
 * SQLite answers the same indexed read in microseconds. So on SQLite the statement runs
 * on the adapter's own better-sqlite3 connection, prepared once per SQL text; on
 * PostgreSQL it goes through `$queryRaw` as before.
 *
 * Same connection, same semantics: Prisma's adapter also runs its queries on this one
 * connection, synchronously, so a direct read sees exactly what a Prisma read at the
 * same moment would. Reads only: writes stay in Prisma, where transactions are.
 *
 * The SQL is a `Prisma.sql` template (values bound, never spliced; the one exception is
 * `limitLiteral`'s integer), written once for both engines; column values come back as
 * each driver gives them, so mappers read dates with `toDate` or `toIsoInstant`, booleans
 * with `toBoolean` and integers with `Number`.
 */

/** The connection a SQLite client's adapter opened (set on connect, replaced on reconnect). */
export interface SqliteConnection {
  database: Database.Database | null;
}

const sqliteConnections = new WeakMap<object, SqliteConnection>();
const statements = new WeakMap<Database.Database, Map<string, Database.Statement<unknown[]>>>();

/**
 * Compiled statements kept per connection. The SQL texts are the templates in our
 * repositories times the page sizes they inline (limitLiteral) and the id-list lengths
 * they bind: a bounded set, but a large one, so the least recently used go.
 */
export const DIRECT_STATEMENT_CACHE_SIZE = 256;

/** client.ts registers each SQLite client with the holder its adapter factory fills in. */
export function registerSqliteConnection(client: object, connection: SqliteConnection): void {
  sqliteConnections.set(client, connection);
}

function statementFor(database: Database.Database, sql: string): Database.Statement<unknown[]> {
  let cache = statements.get(database);
  if (cache === undefined) statements.set(database, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement === undefined) {
    // The prototype's prepare: the instance's is the cache Prisma's adapter goes through.
    statement = (Database.prototype.prepare as (this: Database.Database, source: string) => Database.Statement<unknown[]>).call(database, sql);
    // Plain numbers: every integer column we read on these paths fits (sizes, versions).
    statement.safeIntegers(false);
    // Rows as arrays of column values: better-sqlite3 builds a row object by setting each
    // column name on an empty object, which cost more than the query on a 50-row page.
    statement.raw(true);
    if (cache.size >= DIRECT_STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  } else {
    cache.delete(sql);
  }
  cache.set(sql, statement);
  return statement;
}

/** Bound values as Prisma's SQLite adapter writes them (so comparisons with stored text hold). */
function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace('Z', '+00:00');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

async function openConnection(prisma: PrismaClient, connection: SqliteConnection): Promise<Database.Database> {
  if (connection.database === null || !connection.database.open) await prisma.$connect();
  if (connection.database === null || !connection.database.open) throw new Error('the SQLite connection is not open');
  return connection.database;
}

/**
 * Rows of one read-only statement; see the module comment. `map` builds each row from
 * its column values in the order of the SELECT list (one object literal per row, so
 * every row has the same shape). PostgreSQL's rows come through `$queryRaw` as objects
 * whose keys are in column order; their values are handed over in that order.
 */
export async function readRows<Row>(prisma: PrismaClient, query: Prisma.Sql, map: (values: unknown[]) => Row): Promise<Row[]> {
  const connection = sqliteConnections.get(prisma);
  if (connection === undefined) return (await prisma.$queryRaw<Array<Record<string, unknown>>>(query)).map((row) => map(Object.values(row)));
  const database = await openConnection(prisma, connection);
  const rows = statementFor(database, query.sql).all(...query.values.map(sqliteValue)) as unknown[][];
  return rows.map(map);
}

/** The largest page a direct read may ask for (the routes allow 100). */
const MAX_LIMIT = 1000;

/**
 * A LIMIT as a literal in the SQL text, not a bound value. SQLite's planner looks at a
 * bound LIMIT's value, so a statement with `LIMIT ?` is compiled again on every run
 * after its values are bound, and that recompiling cost as much as running the query.
 * Only a positive integer is spliced, so the text stays free of anything a caller sent.
 */
export function limitLiteral(limit: number): Prisma.Sql {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`a LIMIT must be an integer from 1 to ${MAX_LIMIT}`);
  return Prisma.raw(String(limit));
}

/**
 * A DATETIME as either driver returns it: a Date (PostgreSQL), the text Prisma writes
 * ("2026-12-02T10:00:00.000+00:00"), SQLite's own CURRENT_TIMESTAMP text (UTC without
 * a zone: "2026-12-02 10:00:00"), or epoch milliseconds.
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') {
    const text = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new TypeError('not a stored date');
}

/**
 * A DATETIME as the API shows it (ISO 8601 in UTC, milliseconds, "Z"). The text Prisma
 * writes is turned into it directly; a Date round trip (parse, then format) cost as much
 * as serializing the rest of a 50-row page. Any other form goes through toDate.
 */
export function toIsoInstant(value: unknown): string {
  if (typeof value === 'string' && value.length === 29 && value[10] === 'T' && value[19] === '.' && value.endsWith('+00:00')) {
    return `${value.slice(0, 23)}Z`;
  }
  return toDate(value).toISOString();
}

/** A nullable DATETIME. */
export const toDateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : toDate(value));

/** A boolean expression's value as either driver returns it: 0/1 (SQLite) or a boolean (PostgreSQL). */
export const toBoolean = (value: number | bigint | boolean): boolean => value === true || Number(value) === 1;
