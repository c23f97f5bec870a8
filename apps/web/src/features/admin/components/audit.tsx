import type { AuditVerifyResult } from '@sfe/contract';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { REPORT_DAYS, useAuditReport, useExportAuditCsv, useVerifyAudit } from '../api/audit.ts';
import { useUsernames } from '../api/users.ts';
import { AuditLog } from './audit-log.tsx';
import { AuditReportCard } from './audit-report.tsx';

const REASONS: Record<string, string> = {
  record_altered: 'a record was changed after it was written',
  record_missing: 'a record is missing from the chain',
  checkpoint_invalid: 'a checkpoint signature does not verify',
  checkpoint_mismatch: 'a signed checkpoint no longer matches its record',
  records_missing_after_checkpoint: 'records after a signed checkpoint were removed',
};

function VerifyResult({ result }: { result: AuditVerifyResult }) {
  if (result.ok) {
    return (
      <div className="alert alert-success" role="status">
        Chain intact: all {result.checked} records and every signed checkpoint verify.
      </div>
    );
  }
  return (
    <div className="alert alert-error" role="status">
      Chain broken: {REASONS[result.reason ?? ''] ?? result.reason}. First broken record: <code>{result.firstBrokenId}</code> ({result.checked}{' '}
      records checked).
    </div>
  );
}

/** Admin > Audit: Verify, Export CSV, the 30-day report and the log. */
export function Audit() {
  const report = useAuditReport();
  const verify = useVerifyAudit();
  const exportCsv = useExportAuditCsv();
  const usernames = useUsernames();
  return (
    <>
      <div className="button-row">
        <button type="button" className="button-primary" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? 'Verifying…' : 'Verify'}
        </button>
        <button type="button" onClick={() => exportCsv.mutate(REPORT_DAYS)} disabled={exportCsv.isPending}>
          {exportCsv.isPending ? 'Exporting…' : 'Export CSV'}
        </button>
        <span className="muted">The CSV holds every record of the last {REPORT_DAYS} days.</span>
      </div>
      {verify.data ? <VerifyResult result={verify.data} /> : null}
      <ErrorAlert error={verify.error} title="Verification did not run." />
      <ErrorAlert error={exportCsv.error} title="Export failed." />
      {report.isPending ? <Spinner label="Loading the report…" /> : null}
      <ErrorAlert error={report.error} />
      {report.data ? <AuditReportCard report={report.data} /> : null}
      <AuditLog operations={Object.keys(report.data?.byOperation ?? {}).sort()} usernames={usernames} />
    </>
  );
}
