import { spawn, type ChildProcess } from 'node:child_process';
import { databaseEnv } from './database.ts';
import { REPO_ROOT } from './server-process.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
}

/**
 * The real `sfe` CLI in a child process, with only the environment given here (plus
 * PATH and HOME): the test runner's own variables never leak into it.
 */
export function spawnSfe(args: string[], env: Record<string, string>, stdin = ''): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      MFA_REQUIRED_ROLES: '',
      ...(env.DATA_DIR ? databaseEnv(env.DATA_DIR) : {}),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.end(stdin);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `sfe` to the end. */
export const sfe = (args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> => spawnSfe(args, env, stdin).done;
