import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config.ts';
import { createBackup, restoreBackup, type BackupProgress } from '../../modules/backup/index.ts';
import { openKekProvider } from '../../stores/kek/index.ts';
import { loadCliConfig, OPERATOR, withContainer } from '../context.ts';
import { CliError, EXIT, note, printJson, progressBar, readSecret, type Progress } from '../io.ts';

/** One bar per phase (copy database, key store, blobs; verify; restore). */
function phasedProgress() {
  let phase: string | null = null;
  let bar: Progress | null = null;
  return {
    update(progress: BackupProgress) {
      if (progress.phase !== phase) {
        bar?.stop();
        phase = progress.phase;
        bar = progressBar(progress.phase.padEnd(8));
      }
      bar?.update(progress.done, progress.total);
    },
    stop: () => bar?.stop(),
  };
}

/**
 * The environment the restored directory is opened with: the operator's keys, made
 * explicit (a development key lives in the old DATA_DIR, not in the archive), and no
 * DATABASE_URL, which names the database being restored from, not the new one.
 */
function restoredEnvironment(config: Config, dataDir: string): Record<string, string | undefined> {
  const { DATABASE_URL: _databaseUrl, ...env } = process.env;
  return {
    ...env,
    DATA_DIR: dataDir,
    MASTER_KEY: config.masterKey,
    MASTER_KEY_PREVIOUS: config.masterKeyPrevious.join(','),
    JWT_SECRET: config.jwtSecret,
  };
}

export function backupCommands(program: Command): void {
  program
    .command('backup')
    .description('One encrypted archive of the app database, the key store and every blob, while the API serves')
    .requiredOption('--out <file>', 'the archive to write (mode 0600; never overwritten)')
    .option('--passphrase-stdin', 'read the passphrase from the first line of standard input')
    .option('--json', 'print { file, files, users, bytes, keyIds }')
    .action(async (options: { out: string; passphraseStdin?: boolean; json?: boolean }) => {
      const passphrase = await readSecret('passphrase', { fromStdin: options.passphraseStdin === true, repeat: true });
      await withContainer(async (container) => {
        const progress = phasedProgress();
        const result = await createBackup(container, { out: path.resolve(options.out), passphrase, onProgress: progress.update, actor: OPERATOR.id }).finally(
          progress.stop,
        );
        if (options.json) printJson(result);
        else {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          note(`Backed up ${result.files} files and ${result.users} users (${result.bytes} bytes). It needs the master key(s) ${result.keyIds.join(', ') || '(none)'}: they are NOT in the archive.`);
        }
      });
    });

  program
    .command('restore')
    .description('Restore an archive into an empty directory: preflight first, then restore, then verify')
    .requiredOption('--in <file>', 'the archive written by sfe backup')
    .requiredOption('--data-dir <dir>', 'the new data directory (absent or empty)')
    .option('--passphrase-stdin', 'read the passphrase from the first line of standard input')
    .option('--json', 'print { dataDir, files, users, bytes, keyIds, verify }')
    .action(async (options: { in: string; dataDir: string; passphraseStdin?: boolean; json?: boolean }) => {
      const config = loadCliConfig();
      const dataDir = path.resolve(options.dataDir);
      // The key ids the restored installation will have: for an HSM, the keys found under its labels.
      const kekProvider = await openKekProvider(config);
      const configuredKeyIds = kekProvider.ring.keyIds();
      await kekProvider.close();
      const passphrase = await readSecret('passphrase', { fromStdin: options.passphraseStdin === true });
      const env = restoredEnvironment(config, dataDir);
      const progress = phasedProgress();
      const restored = await restoreBackup({
        inFile: options.in,
        dataDir,
        passphrase,
        configuredKeyIds,
        ...(config.mongodbUri ? { mongodbUri: config.mongodbUri } : {}),
        blobStore: config.blobStore,
        env,
        actor: OPERATOR.id,
        onProgress: progress.update,
      }).finally(progress.stop);

      const verify = await withContainer(async (container) => {
        const bar = progressBar('verify  ');
        return container.services.kek.verify({ deep: true, onProgress: (p) => bar.update(p.done, p.total) }).finally(() => bar.stop());
      }, loadConfig(env));
      const result = { dataDir, ...restored, verify };
      if (options.json) printJson(result);
      else process.stdout.write(`${JSON.stringify({ ...result, verify: { checked: verify.checked, ok: verify.ok, failed: verify.failed.length } })}\n`);
      if (!verify.ok) throw new CliError(`restored, but ${verify.failed.length} of ${verify.checked} files failed verification`, EXIT.failed);
    });
}
