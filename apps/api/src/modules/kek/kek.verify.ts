import { setImmediate as nextTurn } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_SEGMENT_SIZE, createDecryptStream, createRangeDecryptStream, type KekRing } from '@sfe/crypto';
import { AppError } from '../../lib/errors.ts';
import { BlobNotFoundError, type BlobStore } from '../../stores/blobstore/index.ts';
import { blobAssociatedData, unwrapFileDek } from '../files/files.context.ts';
import { unwrapTotpSecret } from '../mfa/totp-secret.ts';
import type { KekRepository, WrappedDekRow } from './kek.repository.ts';

export type VerifyFailureReason = 'kek_unavailable' | 'unwrap_failed' | 'blob_missing' | 'blob_corrupt';

/** Why a wrapped DEK did not open: its key is not configured (unwrapFileDek's AppError), or it does not authenticate. */
export const unwrapFailureReason = (error: unknown): VerifyFailureReason => (error instanceof AppError ? 'kek_unavailable' : 'unwrap_failed');

export interface VerifyReport {
  checked: number;
  ok: boolean;
  failed: Array<{ fileId: string; reason: VerifyFailureReason }>;
}

const BATCH = 500;

/** Reads and discards a plaintext stream: decryption authenticates every segment on the way. */
const drain = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

/**
 * Deep check of one blob without reading all of it: the first and the last segment
 * are authenticated (a small file is read whole). Catches a missing, truncated or
 * swapped blob; a byte flipped in the middle of a large blob is caught by the
 * download that reads it.
 */
async function checkBlob(blobStore: BlobStore, row: WrappedDekRow, dek: Buffer, allowLegacy: boolean): Promise<void> {
  const associatedData = blobAssociatedData(row.id);
  const size = Number(row.size);
  if (size <= 2 * DEFAULT_SEGMENT_SIZE) {
    await pipeline(blobStore.createReadStream(row.blobKey), createDecryptStream(dek, associatedData, { allowLegacy }), drain());
    return;
  }
  const ciphertextSize = await blobStore.size(row.blobKey);
  const lastStart = Math.floor((size - 1) / DEFAULT_SEGMENT_SIZE) * DEFAULT_SEGMENT_SIZE;
  for (const [start, end] of [
    [0, DEFAULT_SEGMENT_SIZE - 1],
    [lastStart, size - 1],
  ] as const) {
    const range = createRangeDecryptStream({
      dek,
      associatedData,
      allowLegacy,
      ciphertextSize,
      start,
      end,
      read: (offset, length) => blobStore.createReadStream(row.blobKey, { start: offset, end: offset + length - 1 }),
    });
    await pipeline(range, drain());
  }
}

/** Unwraps every live DEK (deep: and authenticates each blob's ends); names each failure. */
export async function verifyDeks(options: {
  kek: KekRepository;
  blobStore: BlobStore;
  ring: KekRing;
  allowLegacyCiphers: boolean;
  deep: boolean;
  onProgress?: (progress: { done: number; total: number }) => void;
}): Promise<VerifyReport> {
  const counts = await options.kek.countByKeyId();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const failed: VerifyReport['failed'] = [];
  let checked = 0;
  let cursor: string | null = null;
  for (;;) {
    const rows = await options.kek.page({}, cursor, BATCH);
    if (rows.length === 0) break;
    for (const row of rows) {
      checked++;
      let dek: Buffer;
      try {
        dek = unwrapFileDek(options.ring, row.id, row.wrappedKey);
      } catch (error) {
        failed.push({ fileId: row.id, reason: unwrapFailureReason(error) });
        continue;
      }
      try {
        if (options.deep) await checkBlob(options.blobStore, row, dek, options.allowLegacyCiphers);
      } catch (error) {
        failed.push({ fileId: row.id, reason: error instanceof BlobNotFoundError ? 'blob_missing' : 'blob_corrupt' });
      } finally {
        dek.fill(0);
      }
    }
    cursor = rows.at(-1)?.id ?? null;
    options.onProgress?.({ done: Math.min(checked, total), total });
    // Requests run between batches (SQLite answers synchronously; see kek.service.ts).
    await nextTurn();
  }
  // TOTP secrets are KEK-wrapped too: each must open under the ring (named totp:<user id>).
  let userCursor: string | null = null;
  for (;;) {
    const rows = await options.kek.totpPage({}, userCursor, BATCH);
    if (rows.length === 0) break;
    for (const row of rows) {
      checked++;
      try {
        unwrapTotpSecret(options.ring, row.userId, row.wrappedSecret).fill(0);
      } catch (error) {
        failed.push({ fileId: `totp:${row.userId}`, reason: unwrapFailureReason(error) });
      }
    }
    userCursor = rows.at(-1)?.userId ?? null;
    options.onProgress?.({ done: Math.min(checked, total), total });
    await nextTurn();
  }
  return { checked, ok: failed.length === 0, failed };
}
