import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.ts';

// A real MongoDB-protocol server for the Mongo key store tests: jongodb, a
// native in-memory server shipped as an npm package. One per test file.

const PACKAGE = '@jongodb/memory-server-bin-linux-x64-gnu';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface Jongodb {
  uri: string;
  stop(): Promise<void>;
}

function binaryPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${PACKAGE}/package.json`)), 'bin', 'jongodb');
}


/** Starts a server; `port` lets a test bring one up where an app already expects it. */
export async function startJongodb(options: { port?: number } = {}): Promise<Jongodb> {
  const port = options.port ?? (await freePort());
  const child = spawn(binaryPath(), ['--host=127.0.0.1', `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stdout = '';
  let stderr = '';
  // Keep only the tail of stderr for the start-up error message.
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });

  const uri = await new Promise<string>((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      process.removeListener('exit', killOnExit);
      reject(new Error(`jongodb did not start: ${reason}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no JONGODB_URI line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited early (code ${String(code)}, signal ${String(signal)})`));
    let ready = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      // The pipe is drained for the server's lifetime so it never blocks on a full pipe.
      if (ready) return;
      stdout += chunk;
      const match = /^JONGODB_URI=(\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) {
        ready = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(match[1]);
      }
    });
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopped;
  };
  return { uri, stop };
}

/** The same server, another database: a fresh, empty namespace per test. */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
