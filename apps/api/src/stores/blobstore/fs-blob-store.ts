import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { close, createReadStream, createWriteStream, open, read, type WriteStream } from 'node:fs';
import { link, mkdir, open as openFile, opendir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobNotFoundError, assertBlobKey, isBlobKey, type BlobStore, type BlobWriter } from './blob-store.ts';

// Blobs are flat files '<key>' in one directory, written as '<key>.partial' and
// made visible by a hard link, so a reader never sees half a blob and a crash
// leaves only '.partial' files (or an unreferenced blob) for sweep() to remove.

const PARTIAL_SUFFIX = '.partial';
// PERFORMANCE.md: 1 MiB write buffers doubled raw upload throughput over 16 KiB.
const WRITE_HIGH_WATER_MARK = 1024 * 1024;
// Reads in 1 MiB chunks: at the 64 KiB default every sealed segment (64 KiB + tag)
// straddled two chunks and was copied together again, and reads took 16x the syscalls.
const READ_HIGH_WATER_MARK = 1024 * 1024;

export async function createFsBlobStore(dir: string): Promise<BlobStore> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  return new FsBlobStore(root);
}

class FsBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  newKey(): string {
    return randomBytes(16).toString('base64url');
  }

  createWriter(key: string): BlobWriter {
    assertBlobKey(key);
    return new FsBlobWriter(this.#dir, key);
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    assertBlobKey(key);
    if (range !== undefined) assertRange(range);
    return createReadStream(this.#path(key), {
      ...(range === undefined ? {} : { start: range.start, end: range.end }),
      highWaterMark: READ_HIGH_WATER_MARK,
      // The documented `fs` override lets a missing blob fail the stream with our
      // typed error instead of an ENOENT that names the file's path.
      fs: { open: openMappingNotFound, read, close },
    });
  }

  async size(key: string): Promise<number> {
    assertBlobKey(key);
    try {
      const info = await stat(this.#path(key));
      if (!info.isFile()) throw new BlobNotFoundError();
      return info.size;
    } catch (error) {
      throw isNotFound(error) ? new BlobNotFoundError() : error;
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await unlinkIfExists(this.#path(key));
  }

  async sweep(
    isReferenced: (key: string) => Promise<boolean>,
    olderThan: Date,
  ): Promise<{ removedPartials: number; removedOrphans: number }> {
    const cutoff = olderThan.getTime();
    let removedPartials = 0;
    let removedOrphans = 0;
    for await (const entry of await opendir(this.#dir)) {
      if (!entry.isFile()) continue;
      const isPartial = entry.name.endsWith(PARTIAL_SUFFIX);
      const key = isPartial ? entry.name.slice(0, -PARTIAL_SUFFIX.length) : entry.name;
      // Files we did not name are not ours to delete.
      if (!isBlobKey(key)) continue;
      const path = join(this.#dir, entry.name);
      const modified = await stat(path).then((info) => info.mtimeMs, ignoreNotFound);
      if (modified === undefined || modified >= cutoff) continue;
      if (isPartial) {
        if (await unlinkIfExists(path)) removedPartials += 1;
      } else if (!(await isReferenced(key))) {
        if (await unlinkIfExists(path)) removedOrphans += 1;
      }
    }
    if (removedPartials + removedOrphans > 0) await syncDirectory(this.#dir);
    return { removedPartials, removedOrphans };
  }

  #path(key: string): string {
    return join(this.#dir, key);
  }
}

class FsBlobWriter implements BlobWriter {
  readonly stream: WriteStream;
  readonly #dir: string;
  readonly #partialPath: string;
  readonly #finalPath: string;
  // Which files are ours to remove on abort: never another writer's partial
  // (our exclusive open failed) or another blob under the same key (link failed).
  #opened = false;
  #linked = false;
  #committing: Promise<void> | undefined;
  #aborting: Promise<void> | undefined;

  constructor(dir: string, key: string) {
    this.#dir = dir;
    this.#partialPath = join(dir, key + PARTIAL_SUFFIX);
    this.#finalPath = join(dir, key);
    this.stream = createWriteStream(this.#partialPath, {
      flags: 'wx',
      mode: 0o600,
      highWaterMark: WRITE_HIGH_WATER_MARK,
      // fsync before close: commit() must not publish a blob whose bytes are
      // still only in the page cache.
      flush: true,
    });
    this.stream.once('open', () => {
      this.#opened = true;
    });
    // The caller's pipeline sees the error too; this listener only keeps an
    // unobserved failure from crashing the process. commit() reads stream.errored.
    this.stream.on('error', () => {});
  }

  commit(): Promise<void> {
    this.#committing ??= this.#commit();
    return this.#committing;
  }

  abort(): Promise<void> {
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  async #commit(): Promise<void> {
    if (this.#aborting !== undefined) throw new Error('blob writer was aborted');
    if (!this.stream.writableEnded) throw new Error('blob writer committed before its stream ended');
    if (!this.stream.closed) await once(this.stream, 'close');
    if (this.stream.errored !== null) throw this.stream.errored;
    // link, unlike rename, refuses to replace an existing blob.
    await link(this.#partialPath, this.#finalPath);
    this.#linked = true;
    await unlink(this.#partialPath);
    await syncDirectory(this.#dir);
  }

  async #abort(): Promise<void> {
    // Let a commit in progress settle, so we know which files exist.
    await this.#committing?.catch(() => {});
    if (!this.stream.closed) {
      const closed = once(this.stream, 'close').catch(() => {});
      this.stream.destroy();
      await closed;
    }
    if (this.#opened) await unlinkIfExists(this.#partialPath);
    if (this.#linked) await unlinkIfExists(this.#finalPath);
  }
}

function assertRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError('blob range must be integers with 0 <= start <= end');
  }
}

type OpenCallback = (error: NodeJS.ErrnoException | null, fd?: number) => void;

function openMappingNotFound(path: string, flags: string, mode: number, callback: OpenCallback): void {
  open(path, flags, mode, (error, fd) => {
    if (error !== null) callback(isNotFound(error) ? new BlobNotFoundError() : error);
    else callback(null, fd);
  });
}

/** Makes creations and removals of directory entries durable, not just the file data. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function ignoreNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
