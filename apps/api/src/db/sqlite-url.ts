import path from 'node:path';

/**
 * SQLite URLs as the Prisma better-sqlite3 adapter reads them: `file:<path>`, where
 * everything after `file:` is handed to better-sqlite3 as a file name. A relative path
 * would resolve against whatever directory the process happens to start in (so the
 * server and the migrate script could silently use two different databases); every
 * URL is therefore made absolute once, here.
 */

const PREFIX = 'file:';

export class SqliteUrlError extends Error {
  override readonly name = 'SqliteUrlError';
}

/** Absolute file path of a `file:` URL, relative paths resolved against `baseDir`. */
export function sqliteFilePath(databaseUrl: string, baseDir: string = process.cwd()): string {
  if (!databaseUrl.startsWith(PREFIX)) {
    throw new SqliteUrlError('DATABASE_URL must be a SQLite URL of the form file:/path/to/db.sqlite');
  }
  let filePath = databaseUrl.slice(PREFIX.length);
  // `file://` + absolute path is a common spelling; better-sqlite3 would take `//x` as-is.
  if (filePath.startsWith('//')) filePath = filePath.slice(2);
  // The adapter does not parse query strings (`?mode=...`), it would create a file
  // literally named `db.sqlite?mode=...`: refuse rather than guess.
  if (filePath.includes('?') || filePath.includes('#')) {
    throw new SqliteUrlError('SQLite URL parameters are not supported; use a plain file:/path/to/db.sqlite');
  }
  if (filePath === '' || filePath === ':memory:') {
    throw new SqliteUrlError('DATABASE_URL must name a SQLite file, not an in-memory database');
  }
  return path.resolve(baseDir, filePath);
}

/** The same URL with an absolute path: what every connection in this project uses. */
export function absoluteSqliteUrl(databaseUrl: string, baseDir: string = process.cwd()): string {
  return PREFIX + sqliteFilePath(databaseUrl, baseDir);
}
