import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseEnv } from './database.ts';
import { freePort } from './free-port.ts';
import { BUILT_SERVER, ensureServerBuilt } from './server-build.ts';

// The real server as a child process (the built apps/api/dist/server.mjs, as `pnpm start`
// runs it; kept fresh by server-build.ts), for tests and benchmarks that need a real
// listening port, real signals and the real work factors. stdout and stderr are
// captured so tests can assert on logs.

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const READY_TIMEOUT_MS = 60_000;
// server.ts forces its own exit after 30 s of draining; wait a little longer than that.
const STOP_TIMEOUT_MS = 40_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  log(): string;
  /** Settles when the process has exited, however that happened. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM (graceful shutdown); SIGKILL only if it has not exited after 40 s. */
  stop(): Promise<ExitStatus>;
  /** SIGKILL: a crash, no cleanup of any kind. */
  kill(): Promise<ExitStatus>;
}

export interface StartServerOptions {
  dataDir: string;
  /** Added to (and overriding) the defaults: HOST, PORT, DATA_DIR, NODE_ENV=test, LOG_LEVEL=info. */
  env?: Record<string, string>;
  /** Another entry script, relative to the repository root (the bench's baseline server). */
  entry?: string;
  readyTimeoutMs?: number;
  /** Extra node flags before the entry (the bench's --cpu-prof, --heapsnapshot-signal). */
  nodeArgs?: string[];
}


/** Only what the server needs: the test runner's own environment (NODE_ENV, secrets) stays out. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const env = {
    ...baseEnv(),
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: options.dataDir,
    ...databaseEnv(options.dataDir),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    MFA_REQUIRED_ROLES: '',
    ...options.env,
  };
  // The built server, as `pnpm start` runs it (rebuilt first if a source changed: the
  // benches have no global setup); another entry (TypeScript) through tsx.
  if (options.entry === undefined) await ensureServerBuilt();
  const entryArgs = options.entry === undefined ? [BUILT_SERVER] : ['--import', 'tsx', options.entry];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entryArgs], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const log = (): string => chunks.join('');

  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      resolve({ code, signal });
    });
  });
  const url = `http://127.0.0.1:${port}`;

  try {
    await waitUntilHealthy(url, child, exited, options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${log()}`);
  }

  const signal = async (name: NodeJS.Signals, fallbackMs: number | null): Promise<ExitStatus> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    if (fallbackMs === null) return exited;
    const timer = setTimeout(() => child.kill('SIGKILL'), fallbackMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    url,
    port,
    pid: child.pid ?? -1,
    log,
    exited,
    stop: () => signal('SIGTERM', STOP_TIMEOUT_MS),
    kill: () => signal('SIGKILL', null),
  };
}

async function waitUntilHealthy(url: string, child: ChildProcess, exited: Promise<ExitStatus>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitStatus: ExitStatus | undefined;
  void exited.then((status) => {
    exitStatus = status;
  });
  while (Date.now() < deadline) {
    if (exitStatus !== undefined) {
      throw new Error(`server exited before it was healthy (code ${String(exitStatus.code)}, signal ${String(exitStatus.signal)})`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server (pid ${String(child.pid)}) was not healthy within ${timeoutMs} ms`);
}

/** Peak resident set size of a live process in bytes (Linux VmHWM), or null if unavailable. */
export function peakRssBytes(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}
