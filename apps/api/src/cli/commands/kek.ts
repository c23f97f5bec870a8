import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import {
  KEK_BACKUP_ITERATIONS,
  WrongPasswordError,
  combineShares,
  describeShare,
  exportKekBackup,
  importKekBackup,
  kekId,
  parseKek,
  splitSecret,
} from '@sfe/crypto';
import { AppError } from '../../lib/errors.ts';
import type { Config } from '../../config.ts';
import { loadCliConfig, withContainer } from '../context.ts';
import { CliError, EXIT, confirmOrRefuse, note, printJson, progressBar, readSecret, readStdinLines, refused, usage } from '../io.ts';

const integer = (min: number, max: number) => (raw: string) => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
  return value;
};

const counts = (value: Record<string, number>) =>
  Object.entries(value)
    .map(([keyId, n]) => `${keyId}: ${n}`)
    .join(', ') || 'none';

/** A key for the operator: the 64 hex on the first line and its key id on the second, or `{ kek, keyId }`. */
/** backup and split copy the key itself: there is none to copy when it lives in an HSM. */
function exportableMasterKey(config: Config): string {
  if (config.kek.provider === 'pkcs11') {
    throw refused('the KEK is a non-extractable key inside the HSM (KEK_PROVIDER=pkcs11): back it up with the HSM\'s own key backup or replication, never through SFE');
  }
  return config.masterKey;
}

function printKey(result: { kek: string; keyId: string }, json: boolean | undefined): void {
  if (json) printJson(result);
  else process.stdout.write(`${result.kek}\n${result.keyId}\n`);
}

/** The errno code of a file-system failure, for a one-line message. */
const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';

/** OpenSSL writes `enc` output raw without -a; the backup is raw so docs/cli.md's command works as printed. */
const openSslCommand = (file: string, iterations: number) => `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${iterations} -in ${file}`;

export function kekCommands(program: Command): void {
  const kek = program.command('kek').description('The master key (KEK): rotation, verification and custody');

  kek
    .command('generate')
    .description('Print a new random KEK (64 hex) and its key id')
    .option('--json', 'print { kek, keyId }')
    .action((options: { json?: boolean }) => {
      const key = randomBytes(32);
      const result = { kek: key.toString('hex'), keyId: kekId(key) };
      key.fill(0);
      printKey(result, options.json);
    });

  kek
    .command('status')
    .description('The active key id, how many DEKs each key id wraps, and the latest rotation')
    .option('--json', 'print the status document (as GET /api/v1/admin/kek)')
    .action(async (options: { json?: boolean }) => {
      await withContainer(async (container) => {
        const status = await container.services.kek.status();
        if (options.json) return printJson(status);
        process.stdout.write(`active key id: ${status.activeKeyId}\n`);
        for (const key of status.keys) {
          const flags = [key.active ? 'active' : null, key.configured ? 'configured' : 'NOT CONFIGURED'].filter(Boolean).join(', ');
          process.stdout.write(`  ${key.keyId}  wraps ${key.wrappedDeks} DEKs  (${flags})\n`);
        }
        const r = status.rotation;
        process.stdout.write(r ? `latest rotation ${r.id}: ${r.status}, ${r.done}/${r.total} done, ${r.failed} failed\n` : 'no rotation yet\n');
      });
    });

  kek
    .command('rotate')
    .description('Re-wrap every DEK to the active KEK (MASTER_KEY) in resumable batches')
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print { rewrapped, failed, before, after, durationMs, ... }')
    .action(async (options: { yes?: boolean; json?: boolean }) => {
      await withContainer(async (container, config) => {
        const service = container.services.kek;
        const status = await service.status();
        const pending = status.keys.filter((key) => !key.active).reduce((n, key) => n + key.wrappedDeks, 0);
        if (process.stdin.isTTY && !options.yes) {
          await confirmOrRefuse(`Re-wrap ${pending} DEKs to ${status.activeKeyId}?`, false);
        }
        // A run killed with -9 keeps its lease until it lapses: wait that long, no longer.
        const deadline = Date.now() + 2 * config.kekRotation.leaseMs + 1000;
        let begun: Awaited<ReturnType<typeof service.begin>> | null = null;
        let waited = false;
        while (!begun) {
          try {
            begun = await service.begin(null);
          } catch (error) {
            if (!(error instanceof AppError && error.code === 'CONFLICT') || Date.now() > deadline) {
              await service.recordRefusal(null, error);
              throw error;
            }
            if (!waited) note('sfe: a rotation is held by another run; waiting for its lease to lapse...');
            waited = true;
            await sleep(250);
          }
        }
        if (begun.resumed) note(`sfe: resuming rotation ${begun.job.id} where it stopped`);
        const bar = progressBar('Re-wrapping');
        // Ctrl-C stops between batches and gives the lease up, so a rerun continues at once.
        const interrupt = new AbortController();
        const onSignal = () => interrupt.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const report = await begun
          .run({ signal: interrupt.signal, onProgress: (p) => bar.update(p.done, p.total) })
          .catch((error: unknown) => {
            if (interrupt.signal.aborted) throw new CliError(`interrupted: run sfe kek rotate again to continue rotation ${begun.job.id}`, EXIT.failed);
            throw error;
          })
          .finally(() => {
            bar.stop();
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          });
        const result = {
          rotationId: report.rotation.id,
          rewrapped: report.rewrapped,
          failed: report.failed,
          before: report.before,
          after: report.after,
          durationMs: report.durationMs,
          resumed: report.resumed,
          verify: report.verify,
        };
        if (options.json) printJson(result);
        else {
          process.stdout.write(`re-wrapped ${result.rewrapped}, failed ${result.failed}, in ${result.durationMs} ms\n`);
          process.stdout.write(`before: ${counts(result.before)}\nafter:  ${counts(result.after)}\n`);
          process.stdout.write(`verify: ${report.verify.ok ? 'ok' : 'FAILED'} (${report.verify.checked} checked)\n`);
        }
        if (report.failed > 0 || !report.verify.ok) throw new CliError(`${report.failed} values could not be re-wrapped; see sfe kek verify`, EXIT.failed);
      });
    });

  kek
    .command('verify')
    .description('Unwrap every DEK (--deep: also authenticate the first and last segment of every blob)')
    .option('--deep', 'also read each blob\'s first and last segment')
    .option('--json', 'print { checked, ok, failed: [{ fileId, reason }] }')
    .action(async (options: { deep?: boolean; json?: boolean }) => {
      await withContainer(async (container) => {
        const bar = progressBar('Verifying');
        const report = await container.services.kek
          .verify({ deep: options.deep === true, onProgress: (p) => bar.update(p.done, p.total) })
          .finally(() => bar.stop());
        if (options.json) printJson(report);
        else {
          process.stdout.write(`checked ${report.checked}: ${report.ok ? 'ok' : `${report.failed.length} FAILED`}\n`);
          for (const failure of report.failed) process.stdout.write(`  ${failure.fileId}  ${failure.reason}\n`);
        }
        if (!report.ok) throw new CliError(`${report.failed.length} of ${report.checked} files failed verification`, EXIT.failed);
      });
    });

  kek
    .command('backup')
    .description('Write the active KEK encrypted under a passphrase, readable with openssl alone')
    .requiredOption('--out <file>', 'where to write the backup (mode 0600; never overwritten)')
    .option('--passphrase-stdin', 'read the passphrase from the first line of standard input')
    .option('--iter <n>', 'PBKDF2 iterations', integer(10_000, 10_000_000), KEK_BACKUP_ITERATIONS)
    .action(async (options: { out: string; passphraseStdin?: boolean; iter: number }) => {
      const config = loadCliConfig();
      const passphrase = await readSecret('passphrase', { fromStdin: options.passphraseStdin === true, repeat: true });
      const key = parseKek(exportableMasterKey(config));
      let text: string;
      try {
        text = await exportKekBackup(key, passphrase, { iterations: options.iter });
      } catch (error) {
        throw usage(error instanceof Error ? error.message : 'the backup could not be written');
      }
      const keyId = kekId(key);
      key.fill(0);
      try {
        writeFileSync(options.out, Buffer.from(text.replace(/\s+/g, ''), 'base64'), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        throw refused(`${options.out} could not be created (${errnoOf(error)}); it is never overwritten`);
      }
      await withContainer(async (container) => {
        await container.services.audit.record({ operation: 'backup_created', success: true, userId: null, ipAddress: 'cli', details: { kind: 'kek', keyId, iterations: options.iter } });
      }, config);
      process.stdout.write(`${JSON.stringify({ file: options.out, keyId, iterations: options.iter })}\n`);
      note(`Keep the iteration count with the file. To read it without SFE:\n  ${openSslCommand(options.out, options.iter)}`);
    });

  kek
    .command('restore')
    .description('Decrypt a KEK backup and print the KEK and its key id')
    .requiredOption('--in <file>', 'the backup written by sfe kek backup (or openssl enc, raw or -a)')
    .option('--passphrase-stdin', 'read the passphrase from the first line of standard input')
    .option('--iter <n>', 'PBKDF2 iterations the backup was written with', integer(10_000, 10_000_000), KEK_BACKUP_ITERATIONS)
    .option('--json', 'print { kek, keyId }')
    .action(async (options: { in: string; passphraseStdin?: boolean; iter: number; json?: boolean }) => {
      let content: Buffer;
      try {
        content = readFileSync(options.in);
      } catch (error) {
        throw refused(`${options.in} could not be read (${errnoOf(error)})`);
      }
      const text = content.subarray(0, 8).toString('latin1') === 'Salted__' ? content.toString('base64') : content.toString('latin1');
      const passphrase = await readSecret('passphrase', { fromStdin: options.passphraseStdin === true });
      let key: Buffer;
      try {
        key = await importKekBackup(text, passphrase, { iterations: options.iter });
      } catch (error) {
        if (error instanceof WrongPasswordError) throw refused('wrong passphrase (or a different --iter than the backup was written with)');
        throw refused(error instanceof Error ? error.message : 'not a KEK backup');
      }
      const result = { kek: key.toString('hex'), keyId: kekId(key) };
      key.fill(0);
      printKey(result, options.json);
    });

  kek
    .command('split')
    .description('Split the active KEK into N Shamir shares, any K of which rebuild it')
    .requiredOption('--shares <n>', 'how many shares (2-255)', integer(2, 255))
    .requiredOption('--threshold <k>', 'how many shares rebuild the key (2-N)', integer(2, 255))
    .option('--out-dir <dir>', 'write one share per file (mode 0600) instead of printing them')
    .action(async (options: { shares: number; threshold: number; outDir?: string }) => {
      if (options.threshold > options.shares) throw usage('--threshold must not exceed --shares');
      const key = parseKek(exportableMasterKey(loadCliConfig()));
      const keyId = kekId(key);
      const shares = await splitSecret(key, options.shares, options.threshold, keyId);
      key.fill(0);
      const header = (i: number) =>
        `# SFE master key share ${i} of ${options.shares}; any ${options.threshold} rebuild key ${keyId} (sfe kek combine)\n`;
      if (!options.outDir) {
        note(`${options.shares} shares of ${keyId}; any ${options.threshold} rebuild it. Give each to a different custodian.`);
        shares.forEach((share) => process.stdout.write(`${share}\n`));
        return;
      }
      mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
      const files = shares.map((share, i) => {
        const file = path.join(options.outDir ?? '.', `${keyId}-share-${i + 1}-of-${options.shares}.txt`);
        try {
          writeFileSync(file, `${header(i + 1)}${share}\n`, { mode: 0o600, flag: 'wx' });
        } catch (error) {
          throw refused(`${file} could not be created (${errnoOf(error)}); shares are never overwritten`);
        }
        return file;
      });
      process.stdout.write(`${JSON.stringify({ keyId, shares: options.shares, threshold: options.threshold, files })}\n`);
    });

  kek
    .command('combine')
    .description('Rebuild a KEK from shares (one per line on stdin, or prompted) and print it with its key id')
    .option('--json', 'print { kek, keyId }')
    .action(async (options: { json?: boolean }) => {
      const shares: string[] = [];
      if (process.stdin.isTTY) {
        const first = await readSecret('share 1', { fromStdin: false });
        const { threshold } = describeShare(first, 1);
        shares.push(first);
        for (let i = 2; i <= threshold; i++) shares.push(await readSecret(`share ${i} of ${threshold}`, { fromStdin: false }));
      } else {
        shares.push(...(await readStdinLines()).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')));
      }
      const labels = new Set(shares.map((share, i) => describeShare(share, i + 1).label));
      const key = await combineShares(shares);
      const result = { kek: key.toString('hex'), keyId: kekId(key) };
      key.fill(0);
      const [label] = labels;
      if (label?.startsWith('kek_') && label !== result.keyId) throw new CliError(`the shares rebuild ${result.keyId}, not ${label}`, EXIT.failed);
      printKey(result, options.json);
    });
}
