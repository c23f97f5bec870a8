// Starts the API and the Vite dev server together and prints the one URL to open.
// Run from the repository root: node --import tsx apps/web/scripts/dev.ts
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createServer } from 'vite';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const apiPort = process.env.SFE_API_PORT ?? '3000';
process.env.SFE_API_PORT = apiPort;

const api = spawn(process.execPath, ['--import', 'tsx', '--watch', 'apps/api/src/server.ts'], {
  cwd: repoRoot,
  env: { ...process.env, PORT: apiPort },
  stdio: 'inherit',
});

const vite = await createServer({ configFile: path.resolve(import.meta.dirname, '../vite.config.ts') });
await vite.listen();
const url = vite.resolvedUrls?.local[0] ?? 'http://localhost:5173/';
console.log(`\n  SFE is starting: open ${url} (API on http://127.0.0.1:${apiPort}, proxied at /api)\n`);

const stop = () => {
  api.kill('SIGTERM');
  void vite.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
api.on('exit', (code) => {
  console.error(`The API stopped (exit code ${code ?? 'none'}).`);
  void vite.close().then(() => process.exit(code ?? 1));
});
