import type { Command } from 'commander';
import { copyDatabase, CopyRefusedError, type CopyResult } from '../../db/copy.ts';
import type { PrismaClient } from '../../db/client.ts';
import { databaseProvider, DatabaseUrlError, redactDatabaseUrl } from '../../db/provider.ts';
import { createAuditRepository, type ChainVerification } from '../../modules/audit/audit.repository.ts';
import { CliError, EXIT, note, printJson, progressBar, refused, usage } from '../io.ts';

/**
 * The chain as `sfe audit verify` walks it (every link and hash from the genesis hash or
 * the latest purge anchor, every checkpoint's record in place), plus the same head on
 * both sides. Signatures are not checked here: they do not change in a copy, and
 * `sfe audit verify` on the new database checks them with the server's key.
 */
async function verifyCopiedChain(source: PrismaClient, target: PrismaClient): Promise<ChainVerification & { headsMatch: boolean }> {
  const repo = createAuditRepository(target);
  const checkpoints = await repo.checkpoints();
  const anchor = checkpoints.filter((c) => c.reason === 'purge').at(-1);
  const expected = new Map<number, string[]>();
  for (const c of checkpoints) if (!anchor || c.seq > anchor.seq) expected.set(c.seq, [...(expected.get(c.seq) ?? []), c.hash]);
  const result = await repo.verifyChain({ ...(anchor ? { anchor: { seq: anchor.seq, hash: anchor.hash } } : {}), checkpoints: expected });
  const head = (client: PrismaClient) => client.cryptoLog.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  const [sourceHead, targetHead] = [await head(source), await head(target)];
  return { ...result, headsMatch: sourceHead?.seq === targetHead?.seq && sourceHead?.hash === targetHead?.hash };
}

function databaseUrlOption(raw: string, flag: string): string {
  try {
    databaseProvider(raw);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw usage(`${flag}: ${error.message}`);
    throw error;
  }
  return raw;
}

/** `sfe db ...`: moving the app database between engines. */
export function dbCommands(program: Command): void {
  const db = program.command('db').description('The app database: copy it to another engine (SQLite to PostgreSQL)');

  db.command('copy')
    .description('Copy every table to an empty database (e.g. --from file:/data/sfe.db --to postgresql://...), then verify counts and the audit chain')
    .requiredOption('--from <url>', 'source DATABASE_URL (file:... or postgresql://...)')
    .requiredOption('--to <url>', 'target DATABASE_URL; must be empty (migrated first if new)')
    .option('--batch-size <n>', 'rows per insert', '500')
    .option('--json', 'print one JSON document')
    .action(async (options: { from: string; to: string; batchSize: string; json?: boolean }) => {
      const from = databaseUrlOption(options.from, '--from');
      const to = databaseUrlOption(options.to, '--to');
      const batchSize = Number(options.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw usage('--batch-size must be a whole number from 1 to 10000');
      if (from === to) throw refused('--from and --to name the same database');

      let bar: ReturnType<typeof progressBar> | undefined;
      let current = '';
      let result: CopyResult & { verification: Awaited<ReturnType<typeof verifyCopiedChain>> };
      try {
        result = await copyDatabase({
          from,
          to,
          batchSize,
          onProgress: ({ table, copied, total }) => {
            if (table !== current) {
              bar?.stop();
              current = table;
              bar = progressBar(table.padEnd(18));
            }
            bar?.update(copied, total);
          },
          verify: verifyCopiedChain,
        });
      } catch (error) {
        if (error instanceof CopyRefusedError) throw refused(error.message);
        throw error;
      } finally {
        bar?.stop();
      }

      const chain = result.verification;
      const chainOk = chain.ok && chain.headsMatch;
      const document = {
        from: redactDatabaseUrl(from),
        to: redactDatabaseUrl(to),
        tables: result.tables,
        rows: result.rows,
        countsMatch: result.countsMatch,
        auditChain: { ok: chainOk, checked: chain.checked, firstBrokenId: chain.firstBrokenId, reason: chain.reason, headsMatch: chain.headsMatch },
      };
      if (options.json) printJson(document);
      else {
        for (const t of result.tables) process.stdout.write(`${t.table.padEnd(18)} ${String(t.source).padStart(10)} -> ${String(t.target).padStart(10)}\n`);
        process.stdout.write(`copied ${result.rows} rows; audit chain ${chainOk ? `ok (${chain.checked} records)` : 'BROKEN'}\n`);
      }
      note(`copied ${result.rows} rows from ${redactDatabaseUrl(from)} to ${redactDatabaseUrl(to)}`);
      const mismatched = result.tables.filter((t) => t.source !== t.target).map((t) => t.table);
      if (mismatched.length > 0) throw new CliError(`row counts differ after the copy: ${mismatched.join(', ')}`, EXIT.failed);
      if (!chainOk) throw new CliError(`the copied audit chain does not verify (${chain.reason ?? 'head differs from the source'})`, EXIT.failed);
    });
}
