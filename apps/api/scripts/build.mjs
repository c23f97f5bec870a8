// Builds the server that `pnpm start` and the Docker image run: apps/api/dist/server.mjs.
//
// Why a build: loading TypeScript through tsx at run time kept a module loader thread
// and its caches in the serving process, about 40 MiB of the idle RSS
// (apps/api/bench/README.md). esbuild does the same transform tsx does, once, ahead of time.
//
// Only our own code is bundled: the API, the workspace packages (@sfe/crypto,
// @sfe/contract) and what they alone depend on. Every dependency of the API stays an
// import of node_modules, as under tsx: native modules (better-sqlite3, pkcs11js), Prisma's
// runtime and its wasm, and one copy of each library shared with the sources. Code
// split at each dynamic import keeps the optional backends (MongoDB, S3, PKCS#11,
// PostgreSQL) out of memory until configured. The seal and background workers are plain JS files
// read by URL next to the code that starts them, so they are copied beside the bundle.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(apiDir, '../..');
/** Where the built server goes: dist/server.mjs, its chunks, the two workers, and meta.json. */
export const DIST_DIR = path.join(apiDir, 'dist');
/** The build's metafile (which sources each output holds), written last: its time is the build's. */
export const BUILD_META = path.join(DIST_DIR, 'meta.json');
/** What the build reads: a change in any of these makes dist/ stale. */
export const BUILD_INPUTS = ['apps/api/src', 'packages/crypto/src', 'packages/contract/src', 'apps/api/scripts/build.mjs', 'apps/api/package.json'].map(
  (input) => path.join(repoRoot, input),
);

export async function buildServer() {
  const manifest = JSON.parse(await readFile(path.join(apiDir, 'package.json'), 'utf8'));
  const external = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })
    .filter((name) => !name.startsWith('@sfe/'))
    .flatMap((name) => [name, `${name}/*`]);
  await rm(DIST_DIR, { recursive: true, force: true });
  await mkdir(DIST_DIR, { recursive: true });
  const result = await build({
    entryPoints: { server: path.join(apiDir, 'src/server.ts') },
    // meta.json names files relative to the repository root, wherever the build ran from.
    absWorkingDir: repoRoot,
    outdir: DIST_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    outExtension: { '.js': '.mjs' },
    external,
    // For stack traces: node --enable-source-maps maps them back to the sources.
    sourcemap: 'linked',
    // Which sources each output file holds (the lazy-loading test reads it).
    metafile: true,
    logLevel: 'warning',
  });
  for (const worker of ['segmented/seal-worker.js', 'background-worker.js']) {
    await copyFile(path.join(repoRoot, 'packages/crypto/src', worker), path.join(DIST_DIR, path.basename(worker)));
  }
  await writeFile(BUILD_META, JSON.stringify(result.metafile));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await buildServer();
  console.log(`built ${path.relative(process.cwd(), path.join(DIST_DIR, 'server.mjs'))} in ${Math.round(performance.now() - started)} ms`);
}
