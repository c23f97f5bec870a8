import { readdir } from 'node:fs/promises';
import path from 'node:path';

// What an upload left under DATA_DIR/blobs, for the fault tests.

export const blobsDir = (dataDir: string) => path.join(dataDir, 'blobs');

export async function blobFiles(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(blobsDir(dataDir))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Polls until `check` holds, or returns its last answer once `timeoutMs` has passed.
 * For conditions that settle asynchronously (cleanup after an abort); callers assert
 * on the returned value, so a condition that never holds fails the test.
 */
export async function eventually<T>(probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value) || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
