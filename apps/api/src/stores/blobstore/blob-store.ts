import type { Readable, Writable } from 'node:stream';

/**
 * Storage for encrypted file blobs. A blob is named by a random key from newKey(),
 * never by anything a user chose, and is only ever ciphertext: access control and
 * integrity come from the envelope encryption above this layer, so an adapter can
 * be a directory today and object storage later.
 */

export interface BlobWriter {
  /** Receives the blob's bytes; the writer is not visible to readers until commit(). */
  readonly stream: Writable;
  /**
   * After the stream has ended: makes the blob durable and visible under its key.
   * Idempotent. Rejects if the stream failed or was never ended.
   */
  commit(): Promise<void>;
  /**
   * Discards whatever this writer produced: the unfinished data, and the committed
   * blob too if commit() already succeeded (so an upload whose row insert fails
   * can undo the blob in one call). Idempotent; never rejects for a missing file.
   */
  abort(): Promise<void>;
}

export interface BlobStore {
  /** A fresh random, url-safe key of at least 128 bits. */
  newKey(): string;
  createWriter(key: string): BlobWriter;
  /** `end` is inclusive, as in node:fs. A missing blob fails the stream with BlobNotFoundError. */
  createReadStream(key: string, range?: { start: number; end: number }): Readable;
  /** Throws BlobNotFoundError if absent. */
  size(key: string): Promise<number>;
  /**
   * Idempotent. No overwrite before unlink: a blob is unreadable once its wrapped
   * DEK is destroyed (crypto-shredding), which also covers copies in backups.
   */
  delete(key: string): Promise<void>;
  /**
   * Start-up cleanup after a crash: removes unfinished writes and committed blobs
   * that no row references, but only those last modified before `olderThan`, so
   * uploads in flight (not yet committed, or committed but not yet in the
   * database) survive.
   */
  sweep(
    isReferenced: (key: string) => Promise<boolean>,
    olderThan: Date,
  ): Promise<{ removedPartials: number; removedOrphans: number }>;
}

export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_NOT_FOUND';

  constructor() {
    super('blob not found');
    this.name = 'BlobNotFoundError';
  }
}

/** commit() found a blob already under its key: a committed blob is never replaced. */
export class BlobExistsError extends Error {
  // The code node:fs gives the same refusal from the filesystem adapter's link().
  readonly code = 'EEXIST';

  constructor() {
    super('a blob already exists under this key');
    this.name = 'BlobExistsError';
  }
}

export class InvalidBlobKeyError extends TypeError {
  readonly code = 'INVALID_BLOB_KEY';

  constructor() {
    super('invalid blob key');
    this.name = 'InvalidBlobKeyError';
  }
}

// 22 to 128 characters of the base64url alphabet: no dot, no slash, so a key can
// never climb out of its directory nor collide with a '<key>.partial' file.
const BLOB_KEY = /^[A-Za-z0-9_-]{22,128}$/;

export function isBlobKey(key: unknown): key is string {
  return typeof key === 'string' && BLOB_KEY.test(key);
}

export function assertBlobKey(key: unknown): asserts key is string {
  if (!isBlobKey(key)) throw new InvalidBlobKeyError();
}
