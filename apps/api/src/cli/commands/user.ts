import type { Command } from 'commander';
import type { AdminUser } from '@sfe/contract';
import type { Container } from '../../container.ts';
import { OPERATOR, withContainer } from '../context.ts';
import { confirmOrRefuse, printJson, refused } from '../io.ts';

async function idOf(container: Container, username: string): Promise<string> {
  const user = await container.repositories.users.findByUsername(username);
  if (!user) throw refused(`there is no user named ${username}`);
  return user.id;
}

const line = (u: AdminUser) =>
  `${u.username.padEnd(24)} ${u.role.padEnd(12)} ${u.status.padEnd(8)} key:${u.hasPrivateKey ? 'yes' : 'no '} grants:${u.activeGrants} failed:${u.failedLogins} last:${u.lastLoginAt ?? '-'}`;

/** `sfe user ...`: accounts and incident response, through the same service (and audit) as the admin API. */
export function userCommands(program: Command): void {
  const user = program.command('user').description('Accounts and incident response');

  user
    .command('list')
    .description('Every account with its sign-in, key and grant state')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      await withContainer(async (container) => {
        const users: AdminUser[] = [];
        let cursor: string | null = null;
        do {
          const page = await container.services.adminUsers.list({ limit: 200, ...(cursor ? { cursor } : {}) });
          users.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        if (options.json) printJson({ users });
        else for (const u of users) process.stdout.write(`${line(u)}\n`);
      });
    });

  for (const action of ['disable', 'enable'] as const) {
    user
      .command(action)
      .description(action === 'disable' ? 'Disable an account: every session ends at once' : 'Enable a disabled account')
      .requiredOption('--username <name>', 'the account')
      .option('--json', 'print one JSON document')
      .action(async (options: { username: string; json?: boolean }) => {
        await withContainer(async (container) => {
          const result = await container.services.adminUsers[action](OPERATOR, await idOf(container, options.username));
          if (options.json) printJson(result);
          else process.stdout.write(`${line(result)}\n`);
        });
      });
  }

  user
    .command('incident')
    .description('Compromised account: disable, end every session, revoke every grant, delete the private key')
    .requiredOption('--username <name>', 'the account')
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document')
    .action(async (options: { username: string; yes?: boolean; json?: boolean }) => {
      await withContainer(async (container) => {
        const id = await idOf(container, options.username);
        await confirmOrRefuse(`Disable ${options.username}, revoke every grant and delete its private key?`, options.yes === true);
        const result = await container.services.adminUsers.incident(OPERATOR, id);
        if (options.json) printJson(result);
        else {
          process.stdout.write(
            `disabled: ${result.disabled}\nsessions ended: ${result.sessionsEnded}\ngrants revoked: ${result.grantsRevoked}\nprivate key deleted: ${result.privateKeyDeleted}\n`,
          );
        }
      });
    });

  user
    .command('mfa-reset')
    .description('Lost authenticator: remove every second factor and recovery code of an account and end its sessions')
    .requiredOption('--username <name>', 'the account')
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document')
    .action(async (options: { username: string; yes?: boolean; json?: boolean }) => {
      await withContainer(async (container) => {
        const id = await idOf(container, options.username);
        await confirmOrRefuse(`Remove every second factor of ${options.username}? They sign in with the password alone and enrol again.`, options.yes === true);
        const result = await container.services.adminUsers.mfaReset(OPERATOR, id);
        if (options.json) printJson(result);
        else {
          process.stdout.write(
            `authenticator app removed: ${result.totpRemoved}
passkeys removed: ${result.passkeysRemoved}
recovery codes removed: ${result.recoveryCodesRemoved}
`,
          );
        }
      });
    });

  user
    .command('erase')
    .description('Right to erasure: key destroyed, grants revoked, files shredded, personal fields removed; prints a signed certificate')
    .requiredOption('--username <name>', 'the account')
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document')
    .action(async (options: { username: string; yes?: boolean; json?: boolean }) => {
      await withContainer(async (container) => {
        const id = await idOf(container, options.username);
        await confirmOrRefuse(`Erase ${options.username} for good (files shredded, key destroyed)?`, options.yes === true);
        const certificate = await container.services.adminUsers.erase(OPERATOR, id);
        if (options.json) printJson(certificate);
        else {
          process.stdout.write(
            `erased ${certificate.userId} at ${certificate.erasedAt} (now ${certificate.pseudonym})\n` +
              `private key destroyed: ${certificate.privateKeyDestroyed}\nfiles shredded: ${certificate.filesShredded}\ngrants revoked: ${certificate.grantsRevoked}\n` +
              `signature (Ed25519, key ${certificate.keyId}): ${certificate.signature}\n`,
          );
        }
      });
    });
}
