import type { Command } from 'commander';
import { Value } from 'typebox/value';
import { NewPassword, Username } from '@sfe/contract';
import { withContainer } from '../context.ts';
import { printJson, readSecret, usage } from '../io.ts';

export function adminCommands(program: Command): void {
  const admin = program.command('admin').description('Admin accounts (admins cannot sign up through the API)');
  admin
    .command('create')
    .description('Create an admin account; the password is prompted for or read from stdin')
    .requiredOption('--username <name>', 'the new admin\'s username')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .action(async (options: { username: string; passwordStdin?: boolean }) => {
      if (!Value.Check(Username, options.username)) throw usage('--username must be 3-64 of a-z, A-Z, 0-9, ".", "_", "-"');
      const password = await readSecret('password', { fromStdin: options.passwordStdin === true, repeat: true });
      if (!Value.Check(NewPassword, password)) throw usage('the password must be 12 to 1024 characters');
      await withContainer(async (container) => {
        const user = await container.services.auth.register({ username: options.username, password, role: 'admin' }, 'cli');
        printJson({ created: { id: user.id, username: user.username, role: user.role } });
      });
    });
}
