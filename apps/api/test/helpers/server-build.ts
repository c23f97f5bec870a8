import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_INPUTS, BUILD_META, DIST_DIR, buildServer } from '../../scripts/build.mjs';

/**
 * The tests that start the server as a process run the built server, as `pnpm start`
 * and the Docker image do (apps/api/dist/server.mjs). Each project's global setup calls
 * this: it rebuilds when any source is newer than the last build, under a lock, so the
 * projects of one run build once and never over one another. A process checks once
 * (startServer calls it too, for the benches, which have no global setup).
 */
export const BUILT_SERVER = path.join(DIST_DIR, 'server.mjs');
const LOCK = `${DIST_DIR}.lock`;
const LOCK_STALE_MS = 60_000;

async function newestInput(): Promise<number> {
  let newest = 0;
  for (const input of BUILD_INPUTS) {
    const info = await stat(input);
    newest = Math.max(newest, info.mtimeMs);
    if (!info.isDirectory()) continue;
    for (const entry of await readdir(input, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
    }
  }
  return newest;
}

async function fresh(): Promise<boolean> {
  const built = await stat(BUILD_META).then((info) => info.mtimeMs, () => 0);
  return built > 0 && built >= (await newestInput());
}

async function acquireLock(): Promise<void> {
  for (;;) {
    try {
      await mkdir(LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(LOCK).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (since > LOCK_STALE_MS) await rmdir(LOCK).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function buildIfStale(): Promise<void> {
  if (await fresh()) return;
  await acquireLock();
  try {
    if (!(await fresh())) await buildServer();
  } finally {
    await rmdir(LOCK);
  }
}

let checked: Promise<void> | undefined;
export function ensureServerBuilt(): Promise<void> {
  return (checked ??= buildIfStale());
}
