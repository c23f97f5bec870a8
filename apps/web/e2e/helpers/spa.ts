import { existsSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { webDist } from './server.ts';

/** Builds the SPA the API will serve, unless told to reuse an existing build. */
export async function buildSpa(): Promise<void> {
  if (process.env.SFE_E2E_SKIP_BUILD === '1' && existsSync(path.join(webDist, 'index.html'))) return;
  // The test runner sets NODE_ENV=test, which would make Vite bundle React's
  // development build; the API must serve what production serves.
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.resolve(import.meta.dirname, '../../vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = previous;
  }
}
