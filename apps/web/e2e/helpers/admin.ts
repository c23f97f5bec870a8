import { spawn } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');

/**
 * `sfe admin create` (the real CLI) on the server's own data directory, the password
 * on stdin. `env` carries the keys the server was started with. Resolves the exit code.
 */
export function createAdmin(dataDir: string, admin: { username: string; password: string }, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'apps/api/src/cli/main.ts', 'admin', 'create', '--username', admin.username, '--password-stdin'],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env },
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
    child.stdin.end(`${admin.password}\n`);
    child.on('close', resolve);
  });
}
