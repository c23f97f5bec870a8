/**
 * Whether an error means "the app database cannot be reached right now" (as opposed
 * to a bug or a refused statement): the API answers 503 and the CLI exits 4 for it.
 * Looked for along the cause chain, since drivers and Prisma wrap each other.
 */

/** Driver adapter error kinds (@prisma/driver-adapter-utils) that are about reaching the server. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** PostgreSQL: the server is starting, shutting down, or out of connections (class 08 is connection exceptions). */
const PG_SQLSTATES = /^(08\d{3}|57P0[1-3]|53300)$/;
/** SQLite: the file is locked, unreadable or unwritable right now. */
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY)/;
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current !== null && typeof current === 'object' && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const value = current as { name?: unknown; code?: unknown; kind?: unknown; errorCode?: unknown };
    if (value.name === 'PrismaClientInitializationError') return true;
    if (typeof value.kind === 'string' && ADAPTER_KINDS.has(value.kind)) return true;
    if (typeof value.code === 'string' && (NETWORK_ERRNOS.has(value.code) || PG_SQLSTATES.test(value.code) || SQLITE_CODES.test(value.code) || PRISMA_CODES.has(value.code))) {
      return true;
    }
    if (typeof value.errorCode === 'string' && PRISMA_CODES.has(value.errorCode)) return true;
    // A failed raw query (P2010) carries the driver's code in meta.
    const meta = (current as { meta?: { code?: unknown; driverAdapterError?: unknown } }).meta;
    if (typeof meta?.code === 'string' && (SQLITE_CODES.test(meta.code) || PG_SQLSTATES.test(meta.code))) return true;
    if (meta?.driverAdapterError !== undefined && isDatabaseUnavailable(meta.driverAdapterError)) return true;
    if (value.kind === 'postgres' && typeof (current as { code?: unknown }).code === 'string' && PG_SQLSTATES.test((current as { code: string }).code)) return true;
  }
  return false;
}
