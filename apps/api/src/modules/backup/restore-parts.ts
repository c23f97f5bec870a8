import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { clearTarget, createPendingFile, prepareTarget, type ArchiveInput } from '../../stores/backup/backup-files.ts';
import { openBlobStore, type BlobStore, type BlobStoreSettings } from '../../stores/blobstore/index.ts';
import { EMBEDDED_KEY_STORE_FILE, openEmbeddedKeyStore, type KeyStore } from '../../stores/keystore/index.ts';
import type { ArchiveHeader } from './archive-crypto.ts';
import { blobKeyOf, DATABASE_PART, KEY_STORE_PART, MANIFEST_NAME, MAX_MANIFEST_BYTES, type ManifestPart } from './archive-manifest.ts';
import { archiveEntries, collect, hashed, type VerifiedArchive } from './archive-reader.ts';
import { ArchiveFormatError } from './backup.errors.ts';
import { lines, parseKeyRecord } from './key-records.ts';

export interface RestorePartsInput {
  input: ArchiveInput;
  header: ArchiveHeader;
  key: Buffer;
  /** The first pass's result: the second pass must meet exactly the same parts. */
  verified: VerifiedArchive;
  dataDir: string;
  /** Set: the key records go there; otherwise into DATA_DIR/keystore.db. */
  mongo: KeyStore | undefined;
  /** Where the blobs go, as the restored installation will open them (DATA_DIR/blobs or a bucket). */
  blobStore: BlobStoreSettings;
  onBytes: (bytes: number) => void;
}

/**
 * The second pass: decrypts again and writes each part into place, checking it
 * against the verified manifest before it becomes visible. The first pass already
 * proved the archive sound; if the file changed since, or a write fails, whatever
 * this pass wrote is removed again (and the records it put into MongoDB).
 */
export async function restoreParts(args: RestorePartsInput): Promise<void> {
  const { dataDir, verified } = args;
  const { created } = await prepareTarget(dataDir);
  const restoredUsers: string[] = [];
  const restoredBlobs: string[] = [];
  let embedded: KeyStore | undefined;
  const blobStore = await openBlobStore(args.blobStore, dataDir);
  try {
    if (args.mongo === undefined) embedded = await openEmbeddedKeyStore(path.join(dataDir, EMBEDDED_KEY_STORE_FILE));
    const keyStore = args.mongo ?? (embedded as KeyStore);
    const parts = verified.manifest.parts;
    let index = 0;
    for await (const entry of archiveEntries(args.input, args.header, args.key, args.onBytes)) {
      if (entry.name === MANIFEST_NAME) {
        if (!(await collect(entry.body, MAX_MANIFEST_BYTES)).equals(verified.manifestBytes)) throw changed();
        continue;
      }
      const part = parts[index++];
      if (part === undefined || part.name !== entry.name) throw changed();
      if (entry.name === DATABASE_PART) await restoreFile(entry.body, path.join(dataDir, DATABASE_PART), part);
      else if (entry.name === KEY_STORE_PART) await restoreKeyRecords(entry.body, keyStore, part, restoredUsers);
      else await restoreBlob(entry.body, blobStore, blobKeyOf(entry.name) ?? '', part, restoredBlobs);
    }
    if (index !== parts.length) throw changed();
    await embedded?.close();
    blobStore.close();
  } catch (error) {
    if (args.mongo !== undefined) {
      for (const userId of restoredUsers) await args.mongo.delete(userId).catch(() => undefined);
    }
    // A bucket outlives DATA_DIR: what this restore put there goes again.
    if (blobStore.kind === 's3') {
      for (const key of restoredBlobs) await blobStore.delete(key).catch(() => undefined);
    }
    blobStore.close();
    await embedded?.close().catch(() => undefined);
    await clearTarget(dataDir, created);
    throw error;
  }
}

function changed(): ArchiveFormatError {
  return new ArchiveFormatError('the archive changed between its verification and the restore');
}

function checker(part: ManifestPart) {
  const digest = createHash('sha256');
  const counter = { bytes: 0 };
  return {
    pass: (source: AsyncIterable<Buffer>) => hashed(source, digest, counter),
    matches: () => counter.bytes === part.size && digest.digest('hex') === part.sha256,
  };
}

async function restoreFile(body: AsyncIterable<Buffer>, file: string, part: ManifestPart): Promise<void> {
  const check = checker(part);
  const pending = await createPendingFile(file);
  try {
    await pipeline(check.pass(body), pending.stream);
    if (!check.matches()) throw changed();
    await pending.commit();
  } catch (error) {
    await pending.abort();
    throw error;
  }
}

async function restoreKeyRecords(body: AsyncIterable<Buffer>, keyStore: KeyStore, part: ManifestPart, restored: string[]): Promise<void> {
  const check = checker(part);
  for await (const line of lines(check.pass(body))) {
    const record = parseKeyRecord(line);
    await keyStore.restore(record);
    restored.push(record.userId);
  }
  if (!check.matches()) throw changed();
}

async function restoreBlob(body: AsyncIterable<Buffer>, blobStore: BlobStore, blobKey: string, part: ManifestPart, restored: string[]): Promise<void> {
  const check = checker(part);
  const writer = blobStore.createWriter(blobKey);
  try {
    await pipeline(check.pass(body), writer.stream);
    if (!check.matches()) throw changed();
    await writer.commit();
    restored.push(blobKey);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
