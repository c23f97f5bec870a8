import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const webRoot = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(webRoot, '../..');

async function scripts(dir: string): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return manifest.scripts;
}

describe('the production build', () => {
  it('`pnpm start` builds the SPA through the web build script', async () => {
    expect((await scripts(repoRoot)).start).toMatch(/^pnpm --filter @sfe\/web build &&/);
  });

  it('bundles React for production even when the shell says NODE_ENV=development', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'sfe-web-build-'));
    try {
      // The web package's own build script, as pnpm runs it (sh, with node_modules/.bin
      // on PATH), into a temporary outDir so the real dist/ is left alone.
      const build = (await scripts(webRoot)).build;
      await run('sh', ['-c', `${build} --outDir "${outDir}" --emptyOutDir --logLevel error`], {
        cwd: webRoot,
        env: { ...process.env, NODE_ENV: 'development', PATH: `${path.join(webRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
      });
      const assets = path.join(outDir, 'assets');
      const bundles = (await readdir(assets)).filter((name) => name.endsWith('.js'));
      expect(bundles.length).toBeGreaterThan(0);
      for (const name of bundles) {
        const code = await readFile(path.join(assets, name), 'utf8');
        expect(code, name).not.toContain('jsxDEV');
      }
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
