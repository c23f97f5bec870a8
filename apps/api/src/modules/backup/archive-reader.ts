import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DecryptionFailedError } from '@sfe/crypto';
import type { ArchiveInput } from '../../stores/backup/backup-files.ts';
import { decryptArchive, type ArchiveHeader } from './archive-crypto.ts';
import {
  blobKeyOf,
  DATABASE_PART,
  KEY_STORE_PART,
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  parseManifest,
  type Manifest,
  type ManifestPart,
} from './archive-manifest.ts';
import { readArchiveEntries, type ArchiveEntry } from './archive-tar.ts';
import { ArchiveFormatError, BackupRefusedError } from './backup.errors.ts';
import { lines, parseKeyRecord } from './key-records.ts';

// Reading an archive: decryption, the tar entries in their required order, and the
// verifying first pass of a restore, which writes nothing anywhere.

export const UNDECRYPTABLE =
  'the archive could not be decrypted: wrong passphrase, or the archive is truncated or was altered';

/**
 * Each entry of the archive after decryption, in order, with the name checked
 * against the layout (database, key store, blobs, manifest). Only plaintext whose
 * segment tag verified is released, so every entry seen is authentic; the end of
 * the stream (truncation) is known only once the iteration completes.
 */
export async function* archiveEntries(
  input: ArchiveInput,
  header: ArchiveHeader,
  key: Buffer,
  onBytes: (bytes: number) => void,
): AsyncGenerator<ArchiveEntry> {
  const source: Readable = input.rest();
  const decrypt = decryptArchive(key, header);
  source.on('data', (chunk: Buffer) => onBytes(chunk.length));
  source.on('error', (error) => decrypt.destroy(error));
  source.pipe(decrypt);
  let index = 0;
  let sawManifest = false;
  try {
    for await (const entry of readArchiveEntries(decrypt)) {
      if (sawManifest) throw new ArchiveFormatError('entries follow the manifest');
      const expected = index === 0 ? DATABASE_PART : index === 1 ? KEY_STORE_PART : null;
      index += 1;
      if (entry.name === MANIFEST_NAME) sawManifest = true;
      else if (expected !== null ? entry.name !== expected : blobKeyOf(entry.name) === null) {
        throw new ArchiveFormatError(`unexpected entry ${JSON.stringify(entry.name)}`);
      }
      yield { ...entry, body: refusing(entry.body) };
    }
  } catch (error) {
    throw asRefusal(error);
  } finally {
    source.destroy();
    decrypt.destroy();
  }
}

/** A failure met while the caller reads an entry (e.g. the last segment's tag) is a refusal too. */
async function* refusing(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (error) {
    throw asRefusal(error);
  }
}

/** Every failure of reading an archive is a refusal, except the file system's own. */
export function asRefusal(error: unknown): unknown {
  if (error instanceof BackupRefusedError) return error;
  if (error instanceof DecryptionFailedError) return new BackupRefusedError('undecryptable', UNDECRYPTABLE);
  if (typeof (error as NodeJS.ErrnoException | null)?.syscall === 'string') return error;
  // Only tar-stream is left: it parses authenticated bytes, so this is a damaged writer.
  return new ArchiveFormatError(`unreadable archive contents (${error instanceof Error ? error.message : 'unknown'})`);
}

export interface VerifiedArchive {
  manifest: Manifest;
  /** The exact manifest bytes: the second pass must meet the same ones. */
  manifestBytes: Buffer;
  /** The users whose key records the archive holds. */
  userIds: string[];
}

/**
 * The first pass: decrypts everything once, hashes every part, parses every key
 * record, and requires the manifest last, matching every part. Writes nothing.
 */
export async function verifyArchive(
  input: ArchiveInput,
  header: ArchiveHeader,
  key: Buffer,
  onBytes: (bytes: number) => void,
): Promise<VerifiedArchive> {
  const seen: ManifestPart[] = [];
  const userIds: string[] = [];
  let manifestBytes: Buffer | null = null;
  for await (const entry of archiveEntries(input, header, key, onBytes)) {
    if (entry.name === MANIFEST_NAME) {
      manifestBytes = await collect(entry.body, MAX_MANIFEST_BYTES);
      continue;
    }
    const digest = createHash('sha256');
    const counter = { bytes: 0 };
    const body = hashed(entry.body, digest, counter);
    if (entry.name === KEY_STORE_PART) {
      for await (const line of lines(body)) userIds.push(parseKeyRecord(line).userId);
    } else {
      for await (const _chunk of body) {
        // Hashing is the work; the bytes go nowhere in this pass.
      }
    }
    seen.push({ name: entry.name, size: counter.bytes, sha256: digest.digest('hex') });
  }
  if (manifestBytes === null) throw new BackupRefusedError('incomplete', 'the archive is truncated: it ends before its manifest');
  const manifest = parseManifest(manifestBytes);
  assertPartsMatch(seen, manifest.parts);
  if (new Set(userIds).size !== userIds.length || userIds.length !== manifest.counts.keyStoreRecords) {
    throw new ArchiveFormatError('the key store part does not match the manifest');
  }
  return { manifest, manifestBytes, userIds };
}

function assertPartsMatch(seen: ManifestPart[], listed: ManifestPart[]): void {
  if (seen.length !== listed.length) throw new ArchiveFormatError('the archive parts do not match the manifest');
  seen.forEach((part, i) => {
    const expected = listed[i];
    if (expected?.name !== part.name || expected.size !== part.size || expected.sha256 !== part.sha256) {
      throw new ArchiveFormatError(`part ${part.name} does not match its size and SHA-256 in the manifest`);
    }
  });
}

/** Passes `source` through, feeding `digest` and counting bytes. */
export async function* hashed(source: AsyncIterable<Buffer>, digest: Hash, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    digest.update(chunk);
    counter.bytes += chunk.length;
    yield chunk;
  }
}

export async function collect(source: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    length += chunk.length;
    if (length > limit) throw new ArchiveFormatError('the manifest is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
