import Database from 'better-sqlite3';

// The app database's side of a backup: an online copy through SQLite's backup API,
// and the few questions the backup asks of that copy (never of the live file, so
// every answer describes the same point in time).

const BUSY_TIMEOUT_MS = 5_000;
const PAGE_SIZE = 1_000;

/**
 * Copies the live database while the API keeps writing: the backup API copies pages
 * in steps and starts over when another connection writes in between, so the result
 * is one consistent state, not a torn file copy. Read-write on purpose: a read-only
 * connection cannot open a WAL database whose -shm file is missing (API stopped).
 */
export async function snapshotDatabase(sourceFile: string, destinationFile: string): Promise<void> {
  const source = new Database(sourceFile, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    await source.backup(destinationFile);
  } finally {
    source.close();
  }
}

export interface LiveFile {
  fileId: string;
  blobKey: string;
}

export interface DatabaseSnapshot {
  readonly users: number;
  /** Live (not deleted) files: each one's blob belongs in the backup. */
  readonly files: number;
  /** The KEK key ids the live wrapped DEKs need (never the KEKs). */
  readonly keyIds: string[];
  /** undefined: no such user in the snapshot; null: a user without a key pair. */
  fingerprintOf(userId: string): string | null | undefined;
  liveFiles(): Generator<LiveFile>;
  close(): void;
}

export class SnapshotCorruptError extends Error {
  constructor() {
    super("the database copy failed SQLite's quick_check");
    this.name = 'SnapshotCorruptError';
  }
}

export function openSnapshot(file: string): DatabaseSnapshot {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('query_only = ON');
    // A corrupt page in the live file would be copied faithfully; better to fail the
    // backup now than at the restore drill.
    if (db.pragma('quick_check', { simple: true }) !== 'ok') throw new SnapshotCorruptError();
    const count = (sql: string) => (db.prepare(sql).pluck().get() as number | undefined) ?? 0;
    const users = count('SELECT COUNT(*) FROM users');
    const files = count('SELECT COUNT(*) FROM encrypted_files WHERE deleted_at IS NULL');
    const keyIds = db
      .prepare('SELECT kek_id FROM encrypted_files WHERE kek_id IS NOT NULL AND deleted_at IS NULL UNION SELECT kek_id FROM mfa_totp ORDER BY kek_id')
      .pluck()
      .all() as string[];
    const fingerprint = db.prepare<[string], { fingerprint: string | null }>(
      'SELECT public_key_fingerprint AS fingerprint FROM users WHERE id = ?',
    );
    const page = db.prepare<[string, number], { id: string; blob_key: string }>(
      'SELECT id, blob_key FROM encrypted_files WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?',
    );
    return {
      users,
      files,
      keyIds,
      fingerprintOf: (userId) => fingerprint.get(userId)?.fingerprint,
      *liveFiles() {
        // Pages, not iterate(): an open iterator would make every other statement
        // on this connection fail while the caller awaits blob reads.
        let after = '';
        for (;;) {
          const rows = page.all(after, PAGE_SIZE);
          for (const row of rows) yield { fileId: row.id, blobKey: row.blob_key };
          const last = rows.at(-1);
          if (last === undefined || rows.length < PAGE_SIZE) return;
          after = last.id;
        }
      },
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
