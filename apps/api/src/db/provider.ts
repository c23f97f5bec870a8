import path from 'node:path';
import { REPO_ROOT } from './repo-root.ts';

/**
 * Which database engine a DATABASE_URL names. `file:` is the embedded SQLite default;
 * `postgresql://` (or `postgres://`) is PostgreSQL through the pg driver adapter. The
 * two share one Prisma schema (prisma/schema.prisma, with prisma/postgresql/schema.prisma
 * derived from it) and have one migration history each.
 */
export type DatabaseProvider = 'sqlite' | 'postgresql';

export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

export function databaseProvider(databaseUrl: string): DatabaseProvider {
  if (databaseUrl.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgresql';
  throw new DatabaseUrlError('DATABASE_URL must be file:/path/to/db.sqlite or postgresql://user@host:port/database');
}

/** The committed migrations of each provider. */
export const MIGRATIONS_DIRS: Readonly<Record<DatabaseProvider, string>> = {
  sqlite: path.join(REPO_ROOT, 'prisma/migrations'),
  postgresql: path.join(REPO_ROOT, 'prisma/postgresql/migrations'),
};

export const SCHEMA_PATHS: Readonly<Record<DatabaseProvider, string>> = {
  sqlite: path.join(REPO_ROOT, 'prisma/schema.prisma'),
  postgresql: path.join(REPO_ROOT, 'prisma/postgresql/schema.prisma'),
};

/** A URL safe to print: the password (if any) replaced. */
export function redactDatabaseUrl(databaseUrl: string): string {
  if (databaseProvider(databaseUrl) === 'sqlite') return databaseUrl;
  const url = new URL(databaseUrl);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
