import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest directory above this module that holds
 * pnpm-workspace.yaml. Found, not counted in `..` steps, because the same code runs
 * from its sources (apps/api/src/...) and from the built server (apps/api/dist/), at
 * different depths. The committed migrations and the built SPA are found from here.
 */
export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; ; ) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}: the server runs from inside its repository`);
    dir = parent;
  }
}
