import path from 'node:path';
import { loadConfig } from '../../config.ts';
import { createContainer } from '../../container.ts';
import { ArchiveNotFoundError, inspectTarget, openArchiveInput, type ArchiveInput } from '../../stores/backup/backup-files.ts';
import { openKeyStore, type KeyStore } from '../../stores/keystore/index.ts';
import { BlobNotFoundError, openBlobStore, type BlobStoreSettings } from '../../stores/blobstore/index.ts';
import type { ErrorLogger } from '../audit/audit.service.ts';
import { ARCHIVE_HEADER_LENGTH, deriveArchiveKey, parseArchiveHeader, type ArchiveHeader } from './archive-crypto.ts';
import { blobKeyOf, DATABASE_PART } from './archive-manifest.ts';
import { verifyArchive, type VerifiedArchive } from './archive-reader.ts';
import type { ProgressListener } from './backup.service.ts';
import { BackupRefusedError } from './backup.errors.ts';
import { restoreParts } from './restore-parts.ts';

export interface RestoreBackupOptions {
  inFile: string;
  dataDir: string;
  passphrase: string;
  /** Restore the key store part into this MongoDB instead of DATA_DIR/keystore.db. */
  mongodbUri?: string;
  /** Restore the blobs into this store (default DATA_DIR/blobs); a bucket must hold none of the archive's blobs. */
  blobStore?: BlobStoreSettings;
  /** Key ids of the KEK ring the restored data will run with (MASTER_KEY, MASTER_KEY_PREVIOUS). */
  configuredKeyIds: string[];
  onProgress?: ProgressListener;
  /** The environment the restored directory is opened with for its audit record; default process.env. */
  env?: Record<string, string | undefined>;
  actor?: string;
  log?: ErrorLogger;
}

export interface RestoreResult {
  files: number;
  users: number;
  /** Size of the archive file. */
  bytes: number;
  keyIds: string[];
}

const NAMED_AT_MOST = 5;

/**
 * Preflight first, writing nothing: the target is absent or empty, the archive
 * decrypts and verifies completely, every KEK key id it needs is configured, and a
 * target MongoDB holds none of its users. Then restore, then one `backup_restored`
 * record in the restored directory's own audit log.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreResult> {
  const dataDir = path.resolve(options.dataDir);
  const report = options.onProgress ?? (() => {});
  await assertTargetEmpty(dataDir);
  const input = await openInput(options.inFile);
  const header: ArchiveHeader = parseArchiveHeader(input.prefix);
  const key = await deriveArchiveKey(options.passphrase, header);
  let mongo: KeyStore | undefined;
  let verified: VerifiedArchive;
  try {
    verified = await verifyArchive(input, header, key, progressOf('verify', input, report));
    assertKeyIdsConfigured(verified, options.configuredKeyIds);
    if (options.mongodbUri !== undefined) mongo = await openEmptyMongo(options.mongodbUri, dataDir, verified.userIds);
    const blobStore = options.blobStore ?? { kind: 'fs' };
    if (blobStore.kind === 's3') await assertBucketHoldsNone(blobStore, dataDir, verified);
    // Again, just before the first write: the first pass can take a while.
    await assertTargetEmpty(dataDir);
    await restoreParts({ input, header, key, verified, dataDir, mongo, blobStore, onBytes: progressOf('restore', input, report) });
  } finally {
    key.fill(0);
    await mongo?.close();
  }
  return recordRestore(options, dataDir, verified, input.size);
}

async function assertTargetEmpty(dataDir: string): Promise<void> {
  const state = await inspectTarget(dataDir);
  if (state === 'not-empty') throw new BackupRefusedError('target_not_empty', `${dataDir} is not empty; restore only into an empty or absent directory`);
  if (state === 'not-a-directory') throw new BackupRefusedError('target_not_empty', `${dataDir} exists and is not a directory`);
}

async function openInput(inFile: string): Promise<ArchiveInput> {
  try {
    return await openArchiveInput(path.resolve(inFile), ARCHIVE_HEADER_LENGTH);
  } catch (error) {
    if (error instanceof ArchiveNotFoundError) throw new BackupRefusedError('archive_not_found', error.message);
    throw error;
  }
}

function assertKeyIdsConfigured(verified: VerifiedArchive, configuredKeyIds: readonly string[]): void {
  const configured = new Set(configuredKeyIds);
  const missing = verified.manifest.keyIds.filter((keyId) => !configured.has(keyId));
  if (missing.length > 0) {
    throw new BackupRefusedError(
      'missing_key_ids',
      `the archive's data is wrapped under KEK key ids that are not configured: ${missing.join(', ')}. ` +
        'Configure them in MASTER_KEY or MASTER_KEY_PREVIOUS and restore again.',
      { missingKeyIds: missing },
    );
  }
}

/** A MongoDB that already holds any of the archive's users is refused, not merged into. */
async function openEmptyMongo(mongodbUri: string, dataDir: string, userIds: readonly string[]): Promise<KeyStore> {
  const store = await openKeyStore({ mongodbUri, dataDir });
  try {
    const existing: string[] = [];
    for (const userId of userIds) if ((await store.get(userId)) !== null) existing.push(userId);
    if (existing.length > 0) {
      const named = existing.slice(0, NAMED_AT_MOST).join(', ');
      throw new BackupRefusedError(
        'key_store_not_empty',
        `the target MongoDB already holds key records for ${existing.length} of the archive's users (${named}${existing.length > NAMED_AT_MOST ? ', ...' : ''})`,
      );
    }
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Like the MongoDB check: a bucket that already holds any of the archive's blobs is refused, not merged into. */
async function assertBucketHoldsNone(settings: BlobStoreSettings, dataDir: string, verified: VerifiedArchive): Promise<void> {
  const store = await openBlobStore(settings, dataDir);
  try {
    let existing = 0;
    for (const part of verified.manifest.parts) {
      const blobKey = blobKeyOf(part.name);
      if (blobKey === null) continue;
      const present = await store.size(blobKey).then(
        () => true,
        (error: unknown) => {
          if (error instanceof BlobNotFoundError) return false;
          throw error;
        },
      );
      if (present) existing += 1;
    }
    if (existing > 0) throw new BackupRefusedError('blob_store_not_empty', `the target bucket already holds ${existing} of the archive's blobs`);
  } finally {
    store.close();
  }
}

function progressOf(phase: 'verify' | 'restore', input: ArchiveInput, report: ProgressListener): (bytes: number) => void {
  let done = input.prefix.length;
  report({ phase, done, total: input.size });
  return (bytes) => {
    done += bytes;
    report({ phase, done, total: input.size });
  };
}

/** Opens the restored directory as the API would (migrations included) and audits there. */
async function recordRestore(options: RestoreBackupOptions, dataDir: string, verified: VerifiedArchive, bytes: number): Promise<RestoreResult> {
  // The CLI's own environment by default (as loadConfig itself would read it), with
  // the restored directory, its database and its key store put in place.
  const env = options.env ?? process.env;
  const config = loadConfig({
    ...env,
    DATA_DIR: dataDir,
    // The restored file, whatever database the caller's environment names.
    DATABASE_URL: `file:${path.join(dataDir, DATABASE_PART)}`,
    MONGODB_URI: options.mongodbUri ?? '',
  });
  // A failed audit write must be loud; the CLI's stderr is where its operator looks.
  const log = options.log ?? { error: (_context: object, message: string) => process.stderr.write(`sfe: ${message}\n`) };
  const container = await createContainer(config, { log });
  try {
    const { counts, keyIds } = verified.manifest;
    await container.services.audit.record({
      operation: 'backup_restored',
      success: true,
      userId: options.actor ?? null,
      details: { file: path.resolve(options.inFile), files: counts.files, users: counts.users, bytes, keyIds: keyIds.join(','), keyStore: container.keyStore.kind },
    });
    return { files: counts.files, users: counts.users, bytes, keyIds };
  } finally {
    await container.close();
  }
}
