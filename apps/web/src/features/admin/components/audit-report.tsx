import type { AuditReport as Report } from '@sfe/contract';
import { lazy, Suspense } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { formatDate } from '../../../lib/format.ts';
import { REPORT_DAYS } from '../api/audit.ts';

// The chart library is loaded only when a report is drawn: no other screen pays for it.
const AuditChart = lazy(() => import('./audit-chart.tsx'));

const share = (failed: number, total: number) => (total === 0 ? '0%' : `${((failed / total) * 100).toFixed(1)}%`);

/** The 30-day report: totals, the chart per day, and the numbers by operation. */
export function AuditReportCard({ report }: { report: Report }) {
  const operations = Object.entries(report.byOperation).sort(([, a], [, b]) => b.total - a.total);
  return (
    <section className="card" aria-labelledby="report-title">
      <h2 id="report-title">Last {REPORT_DAYS} days</h2>
      <ul className="stats">
        <li>
          <strong>{report.total}</strong> operations
        </li>
        <li>
          <strong>{report.failed}</strong> failed
        </li>
        <li>
          <strong>{share(report.failed, report.total)}</strong> failed share
        </li>
        <li className="muted">
          {formatDate(report.from)} to {formatDate(report.to)}
        </li>
      </ul>
      {report.byDay ? (
        <Suspense fallback={<Spinner label="Loading the chart…" />}>
          <AuditChart days={report.byDay} />
        </Suspense>
      ) : null}
      <details>
        <summary>By operation</summary>
        <DataTable columns={['Operation', 'Total', 'Failed', 'Failed share']}>
          {operations.map(([name, counts]) => (
            <tr key={name}>
              <td data-label="Operation">
                <code>{name}</code>
              </td>
              <td data-label="Total">{counts.total}</td>
              <td data-label="Failed">{counts.failed}</td>
              <td data-label="Failed share">{share(counts.failed, counts.total)}</td>
            </tr>
          ))}
        </DataTable>
      </details>
    </section>
  );
}
