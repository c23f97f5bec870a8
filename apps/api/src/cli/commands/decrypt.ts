import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { OPERATOR, withContainer } from '../context.ts';
import { CliError, EXIT, printJson, refused } from '../io.ts';

/**
 * The disaster path: one stored file decrypted straight from the data directory, the
 * database and the key ring, with no server (the format is open: packages/crypto/FORMAT.md).
 */
export function decryptCommand(program: Command): void {
  program
    .command('decrypt')
    .description('Decrypt one stored file from the data directory with no server running')
    .requiredOption('--file-id <id>', 'the file\'s id')
    .requiredOption('--out <path>', 'where to write the plaintext (mode 0600; never overwritten)')
    .option('--json', 'print { fileId, out, size, sha256 }')
    .action(async (options: { fileId: string; out: string; json?: boolean }) => {
      if (existsSync(options.out)) throw refused(`${options.out} exists; it is never overwritten`);
      await withContainer(async (container) => {
        const file = await container.services.files.findLive(options.fileId);
        if (!file?.wrappedKey) throw refused(`no stored file has id ${options.fileId} (or it was shredded)`);
        const plaintext = await container.services.files.openWithKek(OPERATOR, file, null, 'offline_recovery');
        const digest = createHash('sha256');
        let size = 0;
        const meter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            digest.update(chunk);
            callback(null, chunk);
          },
        });
        const partial = `${options.out}.partial`;
        try {
          await pipeline(plaintext, meter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
        } catch (error) {
          rmSync(partial, { force: true });
          throw new CliError(`the file could not be decrypted: ${error instanceof Error && error.name === 'DecryptionFailedError' ? 'the stored data does not authenticate' : 'read failed'}`, EXIT.failed);
        }
        const sha256 = digest.digest('hex');
        if (sha256 !== file.sha256 || BigInt(size) !== file.size) {
          rmSync(partial, { force: true });
          throw new CliError('the decrypted bytes do not match the SHA-256 recorded at upload', EXIT.failed);
        }
        renameSync(partial, options.out);
        const result = { fileId: file.id, filename: file.filename, out: options.out, size, sha256 };
        if (options.json) printJson(result);
        else process.stdout.write(`${JSON.stringify(result)}\n`);
      });
    });
}
