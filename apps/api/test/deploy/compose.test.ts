import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';

// No Docker engine runs on our development or CI machines, so the operator files
// are checked statically: the compose file parses and holds the invariants below,
// the Dockerfile passes dockerfile-utils' linter (the one behind the Docker
// language server) and our structural checks, and the API's own configuration
// loader accepts the environment compose gives it. Not checked: that the images
// exist under these tags, that the containers start, and the init scripts' runs.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  networks?: string[];
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks: Record<string, { internal?: boolean } | null>;
}

let composeText: string;
let compose: Compose;
let envExample: Map<string, string>;

beforeAll(async () => {
  composeText = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
  compose = parse(composeText) as Compose;
  const example = await readFile(path.join(root, '.env.example'), 'utf8');
  envExample = new Map(
    example
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
});

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`expected a service named ${name}`);
  return found;
}

/** Compose's own interpolation (${VAR}, ${VAR:-default}, ${VAR:?message}) over an env. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind: string | undefined, rest: string) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (kind === '?') throw new Error(`compose would refuse: ${name} unset (${rest})`);
    return kind === '-' ? rest : '';
  });
}

describe('docker-compose.yml', () => {
  it('pins every image and publishes only the API, on loopback; the data services sit on an internal network', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'minio', 'minio-init', 'mongo', 'postgres']);
    for (const [name, entry] of Object.entries(compose.services)) {
      if (name === 'api') continue;
      expect(entry.image, name).toMatch(/^[a-z/]+:[A-Za-z0-9._-]+$/);
      expect(entry.image, name).not.toMatch(/:latest$/);
      expect(entry.ports, name).toBeUndefined();
      expect(entry.networks, name).toEqual(['backend']);
    }
    expect(compose.networks.backend?.internal).toBe(true);
    expect(service('api').ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(service('api').networks).toEqual(['edge', 'backend']);
  });

  it('runs the API unprivileged on a read-only root with only the data volume and a tmpfs writable, healthy on /readyz', () => {
    const api = service('api');
    expect(api.build).toBeDefined();
    expect(api.read_only).toBe(true);
    expect(api.volumes).toEqual(['sfe-data:/data']);
    expect(api.tmpfs).toHaveLength(1);
    expect(api.tmpfs?.[0]).toMatch(/^\/tmp:.*noexec/);
    expect(api.cap_drop).toEqual(['ALL']);
    expect(api.security_opt).toContain('no-new-privileges:true');
    expect(api.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:3000/readyz');
    expect(api.depends_on).toEqual({
      mongo: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      'minio-init': { condition: 'service_completed_successfully' },
    });
  });

  it('MongoDB: authentication on, root user from .env, a least-privilege app user made by the init script, healthcheck, named volume', async () => {
    const mongo = service('mongo');
    expect(mongo.image).toMatch(/^mongo:\d+/);
    expect(mongo.command).toContain('--auth');
    expect(mongo.environment?.MONGO_INITDB_ROOT_USERNAME).toMatch(/^\$\{MONGO_ROOT_USER:\?.+\}$/);
    expect(mongo.environment?.MONGO_INITDB_ROOT_PASSWORD).toMatch(/^\$\{MONGO_ROOT_PASSWORD:\?.+\}$/);
    expect(mongo.healthcheck?.test.join(' ')).toMatch(/ping/);
    expect(mongo.volumes).toContain('sfe-keys:/data/db');
    const init = mongo.volumes?.find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init).toMatch(/^\.\/deploy\/mongo\/init-app-user\.js:\/docker-entrypoint-initdb\.d\/init-app-user\.js:ro$/);
    const source = await readFile(path.join(root, 'deploy/mongo/init-app-user.js'), 'utf8');
    const script = source
      .split('\n')
      .filter((line) => !line.trim().startsWith('//'))
      .join('\n');
    // Exactly one role, readWrite, on the key-store database only.
    expect(script.match(/role:/g)).toHaveLength(1);
    expect(script).toContain("roles: [{ role: 'readWrite', db: dbName }]");
    expect(script).not.toMatch(/root|dbOwner|userAdmin|AnyDatabase|clusterAdmin/);
    // The API connects as that user, to that database, never as root.
    const uri = service('api').environment?.MONGODB_URI ?? '';
    expect(uri).toMatch(/^mongodb:\/\/\$\{MONGO_APP_USER:\?[^}]+\}:\$\{MONGO_APP_PASSWORD:\?[^}]+\}@mongo:27017\/\$\{MONGO_APP_DB:\?[^}]+\}\?authSource=\$\{MONGO_APP_DB\}$/);
    for (const [name, entry] of Object.entries(compose.services)) {
      if (name !== 'mongo') expect(JSON.stringify(entry), name).not.toContain('MONGO_ROOT');
    }
  });

  it('PostgreSQL with its own credentials and volume; MinIO with a bucket-scoped API user made by minio-init', async () => {
    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(postgres.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?.+\}$/);
    expect(postgres.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(postgres.volumes).toEqual(['sfe-db:/var/lib/postgresql/data']);
    expect(service('api').environment?.DATABASE_URL).toMatch(/^postgresql:\/\/\$\{POSTGRES_USER:\?[^}]+\}:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\//);

    const minio = service('minio');
    expect(minio.volumes).toEqual(['sfe-blobs:/data']);
    expect(minio.environment?.MINIO_BROWSER).toBe('off');
    const init = service('minio-init');
    expect(init.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(init.volumes).toEqual(['./deploy/minio:/deploy:ro']);
    const script = await readFile(path.join(root, 'deploy/minio/init.sh'), 'utf8');
    expect(script).toContain('mc mb --ignore-existing "sfe/$S3_BUCKET"');
    expect(script).toContain('mc admin policy attach sfe sfe-blobs --user "$S3_ACCESS_KEY_ID"');
    const policy = JSON.parse(await readFile(path.join(root, 'deploy/minio/sfe-blobs-policy.json'), 'utf8')) as {
      Statement: { Effect: string; Action: string[]; Resource: string[] }[];
    };
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const resource of statement.Resource) expect(resource).toMatch(/^arn:aws:s3:::__BUCKET__(\/\*)?$/);
      for (const action of statement.Action) expect(action).not.toMatch(/\*|Admin|Policy|Bucket(Create|Delete)/);
    }
    // The API holds the bucket user's keys, never MinIO's root.
    expect(service('api').environment?.AWS_ACCESS_KEY_ID).toBe('${S3_ACCESS_KEY_ID:?set S3_ACCESS_KEY_ID}');
    expect(JSON.stringify(service('api').environment)).not.toContain('MINIO_ROOT');
    expect(Object.keys(compose.volumes).sort()).toEqual(['sfe-blobs', 'sfe-data', 'sfe-db', 'sfe-keys']);
  });

  it('.env.example names every variable compose reads, with a generation command for each secret', () => {
    const referenced = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string));
    for (const name of referenced) expect(envExample.has(name), name).toBe(true);
    for (const name of envExample.keys()) expect(referenced.has(name), `${name} is in .env.example but unused`).toBe(true);
    // Secrets are blank in the example (never a usable default) and come with a command.
    for (const name of [...envExample.keys()].filter((n) => /PASSWORD|SECRET|_KEY$|KEY_ID$/.test(n) && n !== 'MASTER_KEY_PREVIOUS')) {
      expect(envExample.get(name), name).toBe('');
    }
  });

  describe('with the generated values of .env.example', () => {
    let dataDir: string;
    let env: Record<string, string>;
    const generated: Record<string, string> = {
      MASTER_KEY: randomBytes(32).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'),
      MONGO_ROOT_PASSWORD: randomBytes(24).toString('hex'),
      MONGO_APP_PASSWORD: randomBytes(24).toString('hex'),
      POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
      MINIO_ROOT_PASSWORD: randomBytes(24).toString('hex'),
      S3_ACCESS_KEY_ID: randomBytes(10).toString('hex'),
      S3_SECRET_ACCESS_KEY: randomBytes(32).toString('hex'),
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'sfe-compose-'));
      const dotEnv = { ...Object.fromEntries(envExample), ...generated };
      env = Object.fromEntries(Object.entries(service('api').environment ?? {}).map(([name, value]) => [name, interpolate(value, dotEnv)]));
    });
    afterAll(async () => rm(dataDir, { recursive: true, force: true }));

    it('compose refuses to start with a blank secret', () => {
      const dotEnv = { ...Object.fromEntries(envExample), ...generated, MONGO_APP_PASSWORD: '' };
      expect(() => interpolate(service('api').environment?.MONGODB_URI ?? '', dotEnv)).toThrow(/MONGO_APP_PASSWORD/);
    });

    it('the API accepts the production environment compose gives it: S3 blobs, an authenticated key store', () => {
      // DATABASE_URL (postgresql://) is the PostgreSQL work's; the rest is loaded as the container would.
      const { DATABASE_URL: databaseUrl, ...rest } = env;
      expect(databaseUrl).toMatch(/^postgresql:\/\/sfe:[0-9a-f]{48}@postgres:5432\/sfe$/);
      const config = loadConfig({ ...rest, DATA_DIR: dataDir });
      expect(config.env).toBe('production');
      expect(config.blobStore).toMatchObject({ kind: 's3', bucket: 'sfe-blobs', endpoint: 'http://minio:9000', forcePathStyle: true });
      expect(config.mongodbUri).toMatch(/^mongodb:\/\/sfe-api:[0-9a-f]{48}@mongo:27017\/sfe_keys\?authSource=sfe_keys$/);
      // Without the explicit allowance, the plain-http endpoint is refused.
      expect(() => loadConfig({ ...rest, DATA_DIR: dataDir, S3_ALLOW_HTTP: '' })).toThrow(/S3_ENDPOINT is plain http/);
    });
  });
});

describe('Dockerfile', () => {
  let dockerfile: string;
  let stages: string[];

  beforeAll(async () => {
    dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    stages = dockerfile.split(/^(?=FROM )/m).filter((part) => part.startsWith('FROM '));
  });

  it('passes the dockerfile-utils linter with no diagnostics', () => {
    expect(validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('is multi-stage: compilers in the build stage only; the runtime runs as node, checks /readyz and carries no secret', async () => {
    const pnpm = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).packageManager as string;
    expect(stages).toHaveLength(2);
    const [build, runtime] = stages as [string, string];
    expect(build).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(build).toContain(`npx -y ${pnpm} install --frozen-lockfile`);
    expect(build).toMatch(/g\+\+/);
    expect(runtime).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(runtime).not.toMatch(/apt-get|g\+\+|make /);
    expect(runtime).toMatch(/^COPY --from=build /m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('CMD '));
    expect(runtime).toMatch(/^HEALTHCHECK .*http:\/\/127\.0\.0\.1:3000\/readyz/m);
    expect(runtime).toMatch(/^CMD \["node", "--no-allocation-site-pretenuring", "--heap-growing-percent=100", "apps\/api\/dist\/server.mjs"\]$/m);
    // The image runs the built server: the build stage makes it.
    expect(stages[0]).toMatch(/--filter @sfe\/api build/);
    expect(dockerfile).not.toMatch(/MASTER_KEY|JWT_SECRET|PASSWORD|SECRET_ACCESS/);
    expect(dockerfile).not.toMatch(/^ADD /m);
    expect(dockerfile).not.toMatch(/:latest/);
    const ignore = await readFile(path.join(root, '.dockerignore'), 'utf8');
    expect(ignore.split('\n')).toEqual(expect.arrayContaining(['data', '**/node_modules', '.git', '.env']));
  });

  it('runs the server with the node flags and allocator settings of `pnpm start` (apps/api/bench/README.md says why)', async () => {
    const scripts = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    // The package's own scripts (pnpm --filter @sfe/api start) run the same node.
    const apiScripts = JSON.parse(await readFile(path.join(root, 'apps/api/package.json'), 'utf8')).scripts as Record<string, string>;
    const runtime = stages[1] ?? '';
    for (const setting of ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=4194304', 'UV_THREADPOOL_SIZE=8']) {
      for (const script of [scripts.start, scripts.dev, apiScripts.start, apiScripts.dev]) expect(script).toContain(setting);
      expect(runtime).toMatch(new RegExp(`^ENV .*\\b${setting}\\b`, 'm'));
    }
    expect(apiScripts.start).toContain('node --no-allocation-site-pretenuring --heap-growing-percent=100 dist/server.mjs');
    expect(apiScripts.dev).toContain('node --no-allocation-site-pretenuring --heap-growing-percent=100 --import tsx --watch src/server.ts');
    expect(scripts.start).toContain('pnpm --filter @sfe/api build && ');
    expect(scripts.start).toContain('node --no-allocation-site-pretenuring --heap-growing-percent=100 apps/api/dist/server.mjs');
    expect(scripts.dev).toContain('node --no-allocation-site-pretenuring --heap-growing-percent=100 --import tsx');
  });
});
