import type { Alert } from '@sfe/contract';
import { useId, useState } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useAcknowledgeAlert, useAlerts } from '../api/alerts.ts';
import { useUsernames } from '../api/users.ts';

const RULES: Record<Alert['rule'], string> = {
  failed_logins: 'Failed sign-ins',
  unusual_access: 'Unusual access',
  keygen_failure: 'Key generation failed',
  key_store_unavailable: 'Key store unavailable',
  unauthorized_access: 'Unauthorized requests',
  mass_download: 'Mass download',
};
const COLUMNS = ['Rule', 'Severity', 'Subject', 'What happened', 'Count', 'First seen', 'Last seen', 'Status'] as const;

function AlertRow({ alert, usernames }: { alert: Alert; usernames: ReadonlyMap<string, string> }) {
  const ack = useAcknowledgeAlert();
  const subject = alert.subjectUserId ? (usernames.get(alert.subjectUserId) ?? alert.subjectUserId) : 'No account (by address)';
  return (
    <tr data-alert={alert.rule}>
      <td data-label={COLUMNS[0]}>
        {RULES[alert.rule]} <code className="muted">{alert.rule}</code>
      </td>
      <td data-label={COLUMNS[1]}>
        <span className={`badge badge-${alert.severity}`}>{alert.severity}</span>
      </td>
      <td data-label={COLUMNS[2]} className="name">
        {subject}
      </td>
      <td data-label={COLUMNS[3]} className="reason">
        {alert.message}
      </td>
      <td data-label={COLUMNS[4]}>{alert.count}</td>
      <td data-label={COLUMNS[5]}>{formatDateTime(alert.firstSeenAt)}</td>
      <td data-label={COLUMNS[6]}>{formatDateTime(alert.lastSeenAt)}</td>
      <td data-label={COLUMNS[7]}>
        {alert.acknowledged ? (
          <span>Acknowledged{alert.acknowledgedBy ? ` by ${usernames.get(alert.acknowledgedBy) ?? alert.acknowledgedBy}` : ''}</span>
        ) : (
          <button type="button" className="button-small" disabled={ack.isPending} onClick={() => ack.mutate(alert.id)} aria-label={`Acknowledge ${RULES[alert.rule]} for ${subject}`}>
            Acknowledge
          </button>
        )}
        <ErrorAlert error={ack.error} title="Not acknowledged." />
      </td>
    </tr>
  );
}

/** Admin > Alerts: the open ones to act on; acknowledged ones on request. */
export function Alerts() {
  const toggleId = useId();
  const [showAcknowledged, setShowAcknowledged] = useState(false);
  const pages = useCursorPages(String(showAcknowledged));
  const usernames = useUsernames();
  const query = useAlerts({ limit: 50, ...(showAcknowledged ? {} : { acknowledged: false }), ...(pages.cursor ? { cursor: pages.cursor } : {}) });
  const data = query.data;
  return (
    <section className="card" aria-labelledby="alerts-title">
      <h2 id="alerts-title">{showAcknowledged ? 'All alerts' : 'Open alerts'}</h2>
      <label className="choice" htmlFor={toggleId}>
        <input id={toggleId} type="checkbox" checked={showAcknowledged} onChange={(e) => setShowAcknowledged(e.target.checked)} />
        Show acknowledged alerts too
      </label>
      <ListStatus
        query={query}
        loading="Loading alerts…"
        empty={data && data.items.length === 0 ? (showAcknowledged ? 'No alert has been raised.' : 'No open alert: nothing needs attention.') : null}
      />
      {data && data.items.length > 0 ? (
        <DataTable columns={COLUMNS}>
          {data.items.map((alert) => (
            <AlertRow key={alert.id} alert={alert} usernames={usernames} />
          ))}
        </DataTable>
      ) : null}
      <Pager pages={pages} nextCursor={data?.nextCursor} />
    </section>
  );
}
