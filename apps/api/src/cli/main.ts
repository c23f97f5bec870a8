import { createInterface } from 'node:readline';
import { Value } from 'typebox/value';
import { NewPassword, Username } from '@sfe/contract';
import { ConfigError, loadConfig } from '../config.ts';
import { createContainer } from '../container.ts';
import { AppError } from '../lib/errors.ts';

/**
 * `sfe`: the operator CLI. It works on the same configuration (environment) as the
 * API and goes through the same services, so every action is validated and audited.
 * Secrets are read from standard input, never from arguments (visible in `ps`).
 */
const USAGE = `Usage:
  sfe admin create --username <name> [--password-stdin]
      Creates an admin account (admins cannot sign up through the API).
      The password is prompted for, or read from standard input with --password-stdin.`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const lines = createInterface({ input: process.stdin });
    for await (const line of lines) {
      lines.close();
      return line;
    }
    throw new UsageError('no password on standard input');
  }
  // Interactive: prompt twice, echoing nothing.
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(prompt)) write(prompt);
      };
      rl.question(prompt, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  if ((await ask('Repeat password: ')) !== first) throw new UsageError('the passwords do not match');
  return first;
}

async function adminCreate(args: string[]): Promise<void> {
  const username = option(args, '--username');
  if (!username) throw new UsageError('--username is required');
  if (!Value.Check(Username, username)) throw new UsageError('the username must be 3-64 of a-z, A-Z, 0-9, ".", "_", "-"');
  const password = await readPassword(args.includes('--password-stdin'));
  if (!Value.Check(NewPassword, password)) throw new UsageError('the password must be 12 to 1024 characters');
  const container = await createContainer(loadConfig(), { log: { error: (_context, message) => console.error(`sfe: ${message}`) } });
  try {
    const user = await container.services.auth.register({ username, password, role: 'admin' }, 'cli');
    console.log(JSON.stringify({ created: { id: user.id, username: user.username, role: user.role } }));
  } finally {
    await container.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  try {
    if (group === 'admin' && command === 'create') await adminCreate(rest);
    else if (group === undefined || group === 'help' || group === '--help') console.log(USAGE);
    else throw new UsageError(`unknown command: ${[group, command].filter(Boolean).join(' ')}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sfe: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`sfe: configuration error: ${error.message}`);
      return 78;
    }
    if (error instanceof AppError) {
      console.error(`sfe: ${error.message} (${error.code})`);
      return 1;
    }
    console.error(`sfe: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.umask(0o077);
process.exitCode = await main(process.argv.slice(2));
