import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, open, opendir, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

// The files a backup and a restore touch: the archive, the staging directory of a
// backup and the target directory of a restore. Services never import node:fs.

/** 1 MiB: the archive is read and written in long sequential runs. */
const HIGH_WATER_MARK = 1024 * 1024;

export class PathExistsError extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`${path} already exists`);
    this.name = 'PathExistsError';
    this.path = path;
  }
}

export class ArchiveNotFoundError extends Error {
  constructor(path: string) {
    super(`no archive at ${path}`);
    this.name = 'ArchiveNotFoundError';
  }
}

/** A write that becomes visible under its name only once complete. */
export interface PendingFile {
  readonly stream: WriteStream;
  /** After the stream finished: publishes the file (never over an existing one). */
  commit(): Promise<void>;
  /** Removes the unfinished file; idempotent, never rejects for a missing file. */
  abort(): Promise<void>;
}

/**
 * `<path>.partial`, mode 0600, fsynced before close; commit() links it to `<path>`,
 * which fails rather than replace a file that appeared meanwhile. Refuses up front
 * when either name exists: an old backup is never overwritten, and a `.partial`
 * may belong to a backup still running.
 */
export async function createPendingFile(path: string): Promise<PendingFile> {
  const partial = `${path}.partial`;
  for (const candidate of [path, partial]) {
    if (await exists(candidate)) throw new PathExistsError(candidate);
  }
  const stream = createWriteStream(partial, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: HIGH_WATER_MARK });
  // The caller's pipeline sees failures; this keeps an unobserved one from crashing.
  stream.on('error', () => {});
  try {
    await once(stream, 'open');
  } catch (error) {
    throw mapExists(error, partial);
  }
  let opened = true;
  return {
    stream,
    async commit() {
      if (!stream.closed) await once(stream, 'close');
      if (stream.errored !== null) throw stream.errored;
      try {
        await link(partial, path);
      } catch (error) {
        throw mapExists(error, path);
      }
      await unlink(partial);
      opened = false;
      await syncDirectory(dirname(path));
    },
    async abort() {
      if (!stream.closed) {
        const closed = once(stream, 'close').catch(() => undefined);
        stream.destroy();
        await closed;
      }
      if (opened) await rm(partial, { force: true });
      opened = false;
    },
  };
}

/** A private directory beside `near` (same file system, never a shared /tmp). */
export async function makeStagingDir(near: string): Promise<string> {
  return mkdtemp(join(dirname(near), `.${basename(near)}.staging-`));
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function readFileStream(path: string): Readable {
  return createReadStream(path, { highWaterMark: HIGH_WATER_MARK });
}

/** A new file (mode 0600) for staging; fails if it exists. */
export function writeFileStream(path: string): WriteStream {
  return createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: HIGH_WATER_MARK });
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

export interface ArchiveInput {
  readonly size: number;
  /** The first `length` bytes (fewer if the file is shorter). */
  readonly prefix: Buffer;
  /** The bytes after the prefix, streamed; a fresh stream per call. */
  rest(): Readable;
}

export async function openArchiveInput(path: string, prefixLength: number): Promise<ArchiveInput> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isCode(error, 'ENOENT')) throw new ArchiveNotFoundError(path);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ArchiveNotFoundError(path);
    const prefix = Buffer.alloc(Math.min(prefixLength, info.size));
    const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0);
    return {
      size: info.size,
      prefix: prefix.subarray(0, bytesRead),
      rest: () => createReadStream(path, { start: bytesRead, highWaterMark: HIGH_WATER_MARK }),
    };
  } finally {
    await handle.close();
  }
}

export type TargetState = 'absent' | 'empty' | 'not-empty' | 'not-a-directory';

export async function inspectTarget(dir: string): Promise<TargetState> {
  let info;
  try {
    info = await lstat(dir);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return 'absent';
    throw error;
  }
  if (!info.isDirectory()) return 'not-a-directory';
  const entries = await opendir(dir);
  try {
    return (await entries.read()) === null ? 'empty' : 'not-empty';
  } finally {
    await entries.close().catch(() => undefined);
  }
}

/**
 * The restore's target, made private (0700). `created` says whether it was absent:
 * a failed restore then removes the directory itself, not just what it wrote.
 */
export async function prepareTarget(dir: string): Promise<{ created: boolean }> {
  const created = (await inspectTarget(dir)) === 'absent';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return { created };
}

/** Puts the target back as it was before the restore: absent, or empty. */
export async function clearTarget(dir: string, created: boolean): Promise<void> {
  if (created) return removeTree(dir);
  const entries = await opendir(dir);
  const names: string[] = [];
  for await (const entry of entries) names.push(entry.name);
  await Promise.all(names.map((name) => removeTree(join(dir, name))));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function mapExists(error: unknown, path: string): unknown {
  return isCode(error, 'EEXIST') ? new PathExistsError(path) : error;
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
