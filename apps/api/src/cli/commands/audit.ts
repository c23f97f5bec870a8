import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { OPERATOR, withContainer } from '../context.ts';
import { CliError, EXIT, printJson, usage } from '../io.ts';

const days = (raw: string | undefined): number => {
  const value = Number(raw ?? '30');
  if (!Number.isInteger(value) || value < 1 || value > 3660) throw usage('--days must be a whole number from 1 to 3660');
  return value;
};

/** `sfe audit ...`: the same report, verification and purge as the admin API. */
export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('Audit trail: report, verify, retention purge');

  audit
    .command('report')
    .description('Totals by operation over the last days (--csv: the records themselves)')
    .option('--days <n>', 'how many days back', '30')
    .option('--json', 'print one JSON document')
    .option('--csv', 'print the period\'s records as CSV')
    .action(async (options: { days?: string; json?: boolean; csv?: boolean }) => {
      if (options.json && options.csv) throw usage('--json and --csv exclude each other');
      const period = days(options.days);
      await withContainer(async (container) => {
        if (options.csv) {
          await pipeline(container.services.auditAdmin.reportCsv(period), process.stdout, { end: false });
          return;
        }
        const report = await container.services.auditAdmin.report(period);
        if (options.json) return printJson(report);
        process.stdout.write(`period: ${report.from} .. ${report.to}\ntotal: ${report.total}\nfailed: ${report.failed}\n`);
        for (const [operation, counts] of Object.entries(report.byOperation).sort()) {
          process.stdout.write(`  ${operation.padEnd(24)} ${String(counts.total).padStart(8)} ${String(counts.failed).padStart(8)} failed\n`);
        }
      });
    });

  audit
    .command('verify')
    .description('Check the hash chain and every signed checkpoint; exit 1 if anything is broken')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      await withContainer(async (container) => {
        const result = await container.services.auditAdmin.verify(OPERATOR);
        if (options.json) printJson(result);
        else process.stdout.write(result.ok ? `ok: ${result.checked} records checked\n` : `BROKEN at ${result.firstBrokenId} (${result.reason}) after ${result.checked} good records\n`);
        if (!result.ok) throw new CliError(`the audit trail is broken at ${result.firstBrokenId} (${result.reason})`, EXIT.failed);
      });
    });

  audit
    .command('purge')
    .description('Remove audit records, closed grants and file tombstones past their retention period')
    .option('--dry-run', 'only count what would be removed')
    .option('--json', 'print one JSON document')
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      await withContainer(async (container) => {
        const result = await container.services.retention.purge(OPERATOR, { dryRun: options.dryRun === true });
        if (options.json) return printJson(result);
        const verb = result.dryRun ? 'would remove' : 'removed';
        process.stdout.write(`${verb}: ${result.auditRecords} audit records, ${result.closedGrants} closed grants, ${result.tombstones} file tombstones\n`);
      });
    });
}
