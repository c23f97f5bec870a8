import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import type { Container } from '../../container.ts';
import { snapshotToSqlite } from '../../db/copy.ts';
import { databaseProvider } from '../../db/provider.ts';
import { sqliteFilePath } from '../../db/sqlite-url.ts';
import {
  createPendingFile,
  fileSize,
  makeStagingDir,
  PathExistsError,
  readFileStream,
  removeTree,
  writeFileStream,
  type PendingFile,
} from '../../stores/backup/backup-files.ts';
import { openSnapshot, snapshotDatabase, type DatabaseSnapshot } from '../../stores/backup/sqlite-snapshot.ts';
import { BlobNotFoundError, type BlobStore } from '../../stores/blobstore/index.ts';
import type { KeyStore, PrivateKeyRecord } from '../../stores/keystore/index.ts';
import { deriveArchiveKey, encryptArchive, isLongEnough, MIN_PASSPHRASE_LENGTH, newArchiveHeader } from './archive-crypto.ts';
import {
  blobPartName,
  DATABASE_PART,
  encodeManifest,
  KEY_STORE_PART,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  MANIFEST_VERSION,
  type Manifest,
} from './archive-manifest.ts';
import { createArchiveWriter, type ArchiveWriter, type WrittenPart } from './archive-tar.ts';
import { BackupRefusedError, ConcurrentChangeError } from './backup.errors.ts';
import { serializeKeyRecord } from './key-records.ts';

export type BackupPhase = 'database' | 'keyStore' | 'blobs' | 'verify' | 'restore';
export interface BackupProgress {
  phase: BackupPhase;
  done: number;
  total: number;
}
export type ProgressListener = (progress: BackupProgress) => void;

export interface CreateBackupOptions {
  out: string;
  passphrase: string;
  onProgress?: ProgressListener;
  /** Who the audit record names (the CLI's operator). */
  actor?: string;
}

export interface BackupResult {
  file: string;
  files: number;
  users: number;
  /** Size of the archive file. */
  bytes: number;
  keyIds: string[];
}

// A change caught between the key store and the database copy makes the attempt
// start over; a busy system gets a few tries, a little apart.
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 250;

/**
 * One encrypted archive of the app database (online copy), the key store's records
 * and every live blob, while the API keeps serving the same DATA_DIR. Format and
 * invariants: README.md beside this file.
 */
export async function createBackup(container: Container, options: CreateBackupOptions): Promise<BackupResult> {
  if (!isLongEnough(options.passphrase)) {
    throw new BackupRefusedError('weak_passphrase', `the backup passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  const file = path.resolve(options.out);
  const { audit } = container.services;
  const userId = options.actor ?? null;
  try {
    const result = await withRetries((final) => attempt(container, file, options, final));
    const { files, users, bytes, keyIds } = result;
    await audit.record({
      operation: 'backup_created',
      success: true,
      userId,
      details: { file, files, users, bytes, keyIds: keyIds.join(','), keyStore: container.keyStore.kind },
    });
    return result;
  } catch (error) {
    const reason = error instanceof BackupRefusedError ? error.reason : error instanceof Error ? error.name : 'error';
    await audit.record({ operation: 'backup_created', success: false, userId, details: { file, reason } });
    throw error;
  }
}

async function withRetries<T>(run: (final: boolean) => Promise<T>): Promise<T> {
  for (let attemptNo = 1; ; attemptNo++) {
    try {
      return await run(attemptNo === ATTEMPTS);
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError) || attemptNo === ATTEMPTS) throw error;
      await sleep(RETRY_PAUSE_MS * attemptNo);
    }
  }
}

async function attempt(container: Container, file: string, options: CreateBackupOptions, final: boolean): Promise<BackupResult> {
  const report = options.onProgress ?? (() => {});
  let output: PendingFile;
  try {
    output = await createPendingFile(file);
  } catch (error) {
    if (error instanceof PathExistsError) throw new BackupRefusedError('output_exists', `${error.path} already exists; a backup never overwrites a file`);
    throw error;
  }
  let staging: string | undefined;
  let snapshot: DatabaseSnapshot | undefined;
  let key: Buffer | undefined;
  try {
    staging = await makeStagingDir(file);
    // Versions before the copy, records after it: see README.md, "Consistency".
    const before = await keyVersions(container.keyStore);
    report({ phase: 'database', done: 0, total: 1 });
    const databaseFile = path.join(staging, DATABASE_PART);
    if (databaseProvider(container.config.databaseUrl) === 'postgresql') await snapshotToSqlite(container.config.databaseUrl, databaseFile);
    else await snapshotDatabase(sqliteFilePath(container.config.databaseUrl), databaseFile);
    report({ phase: 'database', done: 1, total: 1 });
    snapshot = openSnapshot(databaseFile);
    const keyStoreFile = path.join(staging, KEY_STORE_PART);
    const keyStoreRecords = await stageKeyStore(container.keyStore, snapshot, before, keyStoreFile, final, report);

    const header = newArchiveHeader();
    key = await deriveArchiveKey(options.passphrase, header);
    const createdAt = new Date();
    const writer = createArchiveWriter(createdAt);
    output.stream.write(header.bytes);
    const written = pipeline(writer.output, encryptArchive(key, header), output.stream);
    written.catch((error: unknown) => writer.destroy(error instanceof Error ? error : new Error(String(error))));

    const parts: WrittenPart[] = [];
    parts.push(await writer.entry(DATABASE_PART, await fileSize(databaseFile), readFileStream(databaseFile)));
    parts.push(await writer.entry(KEY_STORE_PART, await fileSize(keyStoreFile), readFileStream(keyStoreFile)));
    let done = 0;
    report({ phase: 'blobs', done, total: snapshot.files });
    for (const live of snapshot.liveFiles()) {
      parts.push(await archiveBlob(writer, container.blobStore, live.fileId, live.blobKey));
      report({ phase: 'blobs', done: ++done, total: snapshot.files });
    }
    const neededKeyIds = snapshot.keyIds;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      createdAt: createdAt.toISOString(),
      keyStore: container.keyStore.kind,
      counts: { users: snapshot.users, files: snapshot.files, blobs: done, keyStoreRecords },
      keyIds: snapshot.keyIds,
      // Where each needed key lives (an HSM key's label), so a restore knows what to configure.
      keys: container.kekProvider
        .references()
        .filter((reference) => neededKeyIds.includes(reference.keyId))
        .map(({ keyId, provider, label }) => ({ keyId, provider, ...(label === undefined ? {} : { label }) })),
      parts,
    };
    const manifestBytes = encodeManifest(manifest);
    await writer.entry(MANIFEST_NAME, manifestBytes.length, [manifestBytes]);
    writer.finalize();
    await written;
    await output.commit();
    return { file, files: snapshot.files, users: snapshot.users, bytes: await fileSize(file), keyIds: snapshot.keyIds };
  } catch (error) {
    await output.abort();
    throw error;
  } finally {
    key?.fill(0);
    snapshot?.close();
    if (staging !== undefined) await removeTree(staging);
  }
}

/** Which version (fingerprint and salt) of each user's key record exists now. */
async function keyVersions(keyStore: KeyStore): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for await (const record of keyStore.listAll()) versions.set(record.userId, versionOf(record));
  return versions;
}

const versionOf = (record: PrivateKeyRecord) => `${record.fingerprint}:${record.salt.toString('base64')}`;

/**
 * Writes the key store part: the records of the snapshot's users, each checked
 * against the version seen before the database copy. A record that changed (or
 * came or went) in between belongs to a password change, rotation or registration
 * in flight, so the attempt starts over. A key that does not match the copy's
 * public key is the same in flight; on the last attempt it is copied as found,
 * since a store left that way by a failed rotation must still be backed up.
 */
async function stageKeyStore(
  keyStore: KeyStore,
  snapshot: DatabaseSnapshot,
  before: Map<string, string>,
  file: string,
  final: boolean,
  report: ProgressListener,
): Promise<number> {
  let count = 0;
  async function* records(): AsyncGenerator<string> {
    for await (const record of keyStore.listAll()) {
      const expected = before.get(record.userId);
      before.delete(record.userId);
      const fingerprint = snapshot.fingerprintOf(record.userId);
      // Registered after the copy: its user row is not in the archive.
      if (fingerprint === undefined) continue;
      if (expected !== versionOf(record)) throw new ConcurrentChangeError('a key store record changed during the backup');
      if (fingerprint !== record.fingerprint && !final) throw new ConcurrentChangeError('a key pair rotation was in progress');
      count += 1;
      if (count % 100 === 0) report({ phase: 'keyStore', done: count, total: snapshot.users });
      yield serializeKeyRecord(record);
    }
    for (const userId of before.keys()) {
      if (snapshot.fingerprintOf(userId) !== undefined) throw new ConcurrentChangeError('a key store record was deleted during the backup');
    }
  }
  await pipeline(records, writeFileStream(file));
  report({ phase: 'keyStore', done: count, total: snapshot.users });
  return count;
}

async function archiveBlob(writer: ArchiveWriter, blobStore: BlobStore, fileId: string, blobKey: string): Promise<WrittenPart> {
  try {
    const size = await blobStore.size(blobKey);
    return await writer.entry(blobPartName(blobKey), size, blobStore.createReadStream(blobKey));
  } catch (error) {
    // Deleted by its owner after the copy was taken; on the next attempt the copy knows.
    if (error instanceof BlobNotFoundError) throw new ConcurrentChangeError(`the blob of file ${fileId} is missing`);
    throw error;
  }
}
