import path from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { createFsBlobStore } from './fs-blob-store.ts';
import type { S3BlobStoreOptions } from './s3-blob-store.ts';

export * from './blob-store.ts';
export { createFsBlobStore } from './fs-blob-store.ts';
export type { S3BlobStoreOptions } from './s3-blob-store.ts';

/** Where blobs live: DATA_DIR/blobs, or one S3-compatible bucket. */
export type BlobStoreSettings = { kind: 'fs' } | ({ kind: 's3' } & S3BlobStoreOptions);

/** The blob directory inside DATA_DIR. */
export const FS_BLOBS_DIR = 'blobs';

export type OpenedBlobStore = BlobStore & { readonly kind: 'fs' | 's3'; close(): void };

export async function openBlobStore(settings: BlobStoreSettings, dataDir: string): Promise<OpenedBlobStore> {
  if (settings.kind === 's3') {
    const { kind: _kind, ...options } = settings;
    // Loaded only when configured: the AWS SDK is most of a megabyte of code to keep in memory.
    const { createS3BlobStore } = await import('./s3-blob-store.ts');
    return Object.assign(createS3BlobStore(options), { kind: 's3' as const });
  }
  const store = await createFsBlobStore(path.join(dataDir, FS_BLOBS_DIR));
  return Object.assign(store, { kind: 'fs' as const, close: () => {} });
}
