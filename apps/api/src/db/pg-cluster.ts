/**
 * A throwaway PostgreSQL server for tests and for authoring/checking the PostgreSQL
 * migrations: initdb + pg_ctl into a temporary directory, on a free local port, trust
 * authentication for one superuser. PostgreSQL refuses to run as root, so as root the
 * server runs as the `postgres` OS user (created by Debian's package).
 *
 * Binaries: PG_BIN if set, else /usr/lib/postgresql/<newest>/bin, else PATH
 * (scripts/ensure-postgres.sh installs Debian's package when they are missing).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
export const PG_USER = 'sfe';

export interface PgCluster {
  /** Superuser URL of the maintenance database `postgres`. */
  readonly adminUrl: string;
  readonly port: number;
  /** URL of database `name` on this server. */
  urlFor(name: string): string;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = path.join(base, version, 'bin');
      if (existsSync(path.join(dir, 'initdb'))) return dir;
    }
  }
  return '';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function osUser(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Identifiers for CREATE/DROP DATABASE: ours only, so a strict pattern instead of quoting rules. */
function databaseName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unexpected database name ${JSON.stringify(name)}`);
  return name;
}

export async function startPgCluster(options: { settings?: Record<string, string> } = {}): Promise<PgCluster> {
  const bin = postgresBinDir();
  const tool = (name: string) => (bin ? path.join(bin, name) : name);
  const dir = await mkdtemp(path.join(tmpdir(), 'sfe-pg-'));
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await osUser('postgres') : undefined;
  if (owner) await chown(dir, owner.uid, owner.gid);
  const exec = async (file: string, args: string[]) => {
    // runuser keeps the arguments as they are (no shell), unlike `su -c`.
    const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      return await run(command, commandArgs, { cwd: dir });
    } catch (error) {
      const detail = error as { stderr?: string; message: string };
      throw new Error(`${path.basename(file)} failed: ${detail.stderr?.trim() || detail.message}`, { cause: error });
    }
  };

  await exec(tool('initdb'), ['-D', dataDir, '-A', 'trust', '-U', PG_USER, '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    // A test server: losing it on a power cut loses nothing.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    ...options.settings,
  };
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([key, value]) => `-c ${key}=${value}`)].join(' ');
  await exec(tool('pg_ctl'), ['-D', dataDir, '-o', serverOptions, '-l', path.join(dir, 'server.log'), '-w', 'start']);

  const urlFor = (name: string) => `postgresql://${PG_USER}@127.0.0.1:${port}/${databaseName(name)}`;
  const adminUrl = urlFor('postgres');
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  let stopped = false;
  return {
    adminUrl,
    port,
    urlFor,
    async createDatabase(name) {
      await admin((client) => client.query(`CREATE DATABASE ${databaseName(name)}`));
      return urlFor(name);
    },
    async dropDatabase(name) {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${databaseName(name)} WITH (FORCE)`));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await exec(tool('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
