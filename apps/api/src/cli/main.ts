import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { Command, CommanderError } from 'commander';
import { InvalidKeyError, InvalidShareError } from '@sfe/crypto';
import { ConfigError } from '../config.ts';
import { AppError, PreflightError } from '../lib/errors.ts';
import { KeyStoreUnavailableError } from '../stores/keystore/index.ts';
import { BackupRefusedError } from '../modules/backup/index.ts';
import { adminCommands } from './commands/admin.ts';
import { auditCommands } from './commands/audit.ts';
import { userCommands } from './commands/user.ts';
import { backupCommands } from './commands/backup.ts';
import { dbCommands } from './commands/db.ts';
import { decryptCommand } from './commands/decrypt.ts';
import { kekCommands } from './commands/kek.ts';
import { CliError, EXIT } from './io.ts';

/**
 * `sfe`: the operator CLI (docs/cli.md). It works on the same configuration (environment)
 * as the API and goes through the same services, so every action is validated and
 * audited alike. Secrets come from a no-echo prompt or stdin, never from arguments.
 */
export function buildProgram(): Command {
  const program = new Command('sfe')
    .description('Secure File Exchange operator CLI (same environment as the API: DATA_DIR, DATABASE_URL, MONGODB_URI, MASTER_KEY, ...)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  adminCommands(program);
  userCommands(program);
  auditCommands(program);
  kekCommands(program);
  backupCommands(program);
  decryptCommand(program);
  dbCommands(program);
  // Every subcommand reports usage errors the same way instead of exiting by itself.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

/** The exit code of docs/cli.md for an error, and the one line that says what happened. */
export function describeFailure(error: unknown): { exitCode: number; message: string | null } {
  if (error instanceof CommanderError) {
    // Commander already printed its own message (or the help).
    const helped = error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version';
    return { exitCode: helped ? EXIT.ok : EXIT.usage, message: null };
  }
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (error instanceof ConfigError) return { exitCode: EXIT.refused, message: `configuration error: ${error.message}` };
  if (error instanceof PreflightError) return { exitCode: EXIT.refused, message: error.message };
  if (error instanceof KeyStoreUnavailableError) return { exitCode: EXIT.unavailable, message: 'the key store is unavailable' };
  if (error instanceof InvalidShareError || error instanceof InvalidKeyError) return { exitCode: EXIT.refused, message: error.message };
  if (error instanceof AppError) {
    const exitCode =
      error.code === 'VALIDATION_FAILED'
        ? EXIT.usage
        : ['KEK_UNAVAILABLE', 'CONFLICT', 'PRIVATE_KEY_MISSING', 'NOT_FOUND'].includes(error.code)
          ? EXIT.refused
          : ['KEY_STORE_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'AUDIT_UNAVAILABLE'].includes(error.code)
            ? EXIT.unavailable
            : EXIT.failed;
    return { exitCode, message: `${error.message} (${error.code})` };
  }
  if (error instanceof BackupRefusedError) return { exitCode: EXIT.refused, message: error.message };
  if (isDatabaseUnavailable(error)) return { exitCode: EXIT.unavailable, message: 'the app database is unavailable' };
  return { exitCode: EXIT.failed, message: `failed: ${error instanceof Error ? error.message : String(error)}` };
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    const { exitCode, message } = describeFailure(error);
    if (message) process.stderr.write(`sfe: ${message}\n`);
    return exitCode;
  }
}

process.umask(0o077);
process.exitCode = await main(process.argv.slice(2));
