import type { AuditEntry } from '@sfe/contract';
import { useId, useState } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { useAuditLog, type AuditFilters } from '../api/audit.ts';
import { SelectField, type Choice } from './select-field.tsx';

type Outcome = 'all' | 'true' | 'false';
const OUTCOMES: Choice<Outcome>[] = [
  { value: 'all', label: 'Any outcome' },
  { value: 'true', label: 'Succeeded' },
  { value: 'false', label: 'Failed' },
];
const COLUMNS = ['Time', 'Operation', 'Outcome', 'User', 'Address', 'Details'] as const;

/** A datetime-local value (the browser's time zone) as the API's UTC timestamp. */
const toIso = (local: string) => (local && !Number.isNaN(Date.parse(local)) ? new Date(local).toISOString() : undefined);

function EntryRow({ entry, usernames }: { entry: AuditEntry; usernames: ReadonlyMap<string, string> }) {
  const details = Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : '—';
  return (
    <tr data-operation={entry.operation}>
      <td data-label={COLUMNS[0]}>{formatDateTime(entry.timestamp)}</td>
      <td data-label={COLUMNS[1]}>
        <code>{entry.operation}</code>
      </td>
      <td data-label={COLUMNS[2]}>
        <span className={`badge badge-${entry.success ? 'ok' : 'failed'}`}>{entry.success ? 'Succeeded' : 'Failed'}</span>
      </td>
      <td data-label={COLUMNS[3]} className="name">
        {entry.userId ? (usernames.get(entry.userId) ?? <code>{entry.userId}</code>) : '—'}
      </td>
      <td data-label={COLUMNS[4]}>{entry.ipAddress ?? '—'}</td>
      <td data-label={COLUMNS[5]} className="details-cell">
        {details}
      </td>
    </tr>
  );
}

/** The audit log, newest first, with filters and "Load more". */
export function AuditLog({ operations, usernames }: { operations: readonly string[]; usernames: ReadonlyMap<string, string> }) {
  const ids = { from: useId(), to: useId(), operation: useId(), list: useId() };
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [operation, setOperation] = useState('');
  const [userId, setUserId] = useState('all');
  const [outcome, setOutcome] = useState<Outcome>('all');
  const op = operation.trim();
  const fromIso = toIso(from);
  const toIsoValue = toIso(to);
  const filters: AuditFilters = {
    ...(fromIso ? { from: fromIso } : {}),
    ...(toIsoValue ? { to: toIsoValue } : {}),
    ...(/^[a-z_]{1,64}$/.test(op) ? { operation: op } : {}),
    ...(userId === 'all' ? {} : { userId }),
    ...(outcome === 'all' ? {} : { success: outcome === 'true' }),
  };
  const log = useAuditLog(filters);
  const entries = log.data?.pages.flatMap((page) => page.items) ?? [];
  const users: Choice<string>[] = [{ value: 'all', label: 'Anyone' }, ...[...usernames].map(([value, label]) => ({ value, label }))];

  return (
    <section className="card" aria-labelledby="log-title">
      <h2 id="log-title">Log</h2>
      <div className="filters" role="group" aria-label="Filters">
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input id={ids.from} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input id={ids.to} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.operation}>Operation</label>
          <input id={ids.operation} list={ids.list} value={operation} onChange={(e) => setOperation(e.target.value)} spellCheck={false} />
          <datalist id={ids.list}>
            {operations.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </div>
        <SelectField label="User" value={userId} choices={users} onChange={setUserId} />
        <SelectField label="Outcome" value={outcome} choices={OUTCOMES} onChange={setOutcome} />
      </div>
      {op && !filters.operation ? <p className="field-error">An operation name is lower-case letters and _ only.</p> : null}
      <ListStatus query={log} loading="Loading the audit log…" empty={log.data && entries.length === 0 ? 'No record matches.' : null} />
      {entries.length > 0 ? (
        <DataTable columns={COLUMNS}>
          {entries.map((entry) => (
            <EntryRow key={entry.id} entry={entry} usernames={usernames} />
          ))}
        </DataTable>
      ) : null}
      {log.hasNextPage ? (
        <div className="button-row">
          <button type="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
            {log.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
          <span className="muted">{entries.length} records shown</span>
        </div>
      ) : null}
    </section>
  );
}
