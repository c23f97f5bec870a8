import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs on our development or CI machines, so the operator files
// are checked statically: they parse, and they say what the code expects.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}

describe('docker-compose.yml and Dockerfile', () => {
  it('runs the API in production mode against MongoDB, with secrets required from the environment', async () => {
    const compose = parse(await readFile(path.join(root, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, ComposeService>;
      volumes: Record<string, unknown>;
    };
    const { api, mongo } = compose.services;
    if (!api || !mongo) throw new Error('expected services api and mongo');
    expect(api.build).toBeDefined();
    const env = api.environment ?? {};
    expect(env.NODE_ENV).toBe('production');
    expect(env.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\//);
    // ${VAR:?message}: compose refuses to start without them instead of running keyless.
    expect(env.MASTER_KEY).toMatch(/^\$\{MASTER_KEY:\?.+\}$/);
    expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
    expect(env.AUDIT_SIGNING_KEY).toMatch(/^\$\{AUDIT_SIGNING_KEY:\?.+\}$/);
    expect(env.DATA_DIR).toBe('/data');
    expect(api.volumes).toContain('sfe-data:/data');
    expect(api.depends_on?.mongo?.condition).toBe('service_healthy');
    expect(api.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(mongo.image).toMatch(/^mongo:\d+/);
    expect(mongo.healthcheck?.test.join(' ')).toMatch(/ping/);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['sfe-data', 'sfe-keys']));
  });

  it('builds with the pinned pnpm, runs unprivileged and carries no secret', async () => {
    const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const pnpm = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).packageManager as string;
    expect(dockerfile).toContain(`npx -y ${pnpm} install --frozen-lockfile`);
    expect(dockerfile).toMatch(/^FROM node:20-/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "apps\/api\/src\/server.ts"\]$/m);
    expect(dockerfile).not.toMatch(/MASTER_KEY|JWT_SECRET/);
    const ignore = await readFile(path.join(root, '.dockerignore'), 'utf8');
    expect(ignore.split('\n')).toEqual(expect.arrayContaining(['data', '**/node_modules', '.git']));
  });
});
