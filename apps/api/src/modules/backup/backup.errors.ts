/** Why a backup or restore was refused; stable, for the CLI and for tests. */
export type BackupRefusal =
  | 'weak_passphrase'
  | 'output_exists'
  | 'archive_not_found'
  /** Wrong passphrase, or the archive was truncated or altered: deliberately one case. */
  | 'undecryptable'
  | 'malformed'
  | 'incomplete'
  | 'missing_key_ids'
  | 'target_not_empty'
  | 'key_store_not_empty'
  | 'blob_store_not_empty';

/**
 * A precondition of a backup or restore failed, and nothing was written (the CLI
 * exits 3). Messages name what is missing (key ids, paths), never a passphrase or key.
 */
export class BackupRefusedError extends Error {
  readonly code = 'BACKUP_REFUSED';
  readonly reason: BackupRefusal;
  /** For 'missing_key_ids': the KEK key ids the archive needs and the ring lacks. */
  readonly missingKeyIds: readonly string[];

  constructor(reason: BackupRefusal, message: string, options: { missingKeyIds?: readonly string[] } = {}) {
    super(message);
    this.name = 'BackupRefusedError';
    this.reason = reason;
    this.missingKeyIds = options.missingKeyIds ?? [];
  }
}

/** An authenticated archive whose contents break the format: refused like any other damage. */
export class ArchiveFormatError extends BackupRefusedError {
  constructor(message: string) {
    super('malformed', message);
  }
}

/**
 * The key store or the blobs changed under a backup in a way that would make the
 * archive inconsistent with its database copy; the backup starts over.
 */
export class ConcurrentChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentChangeError';
  }
}
