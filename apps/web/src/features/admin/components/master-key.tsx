import { useState } from 'react';
import type { KekStatus, Rotation } from '@sfe/contract';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { useKekStatus, useRotateKek, useVerifyKek } from '../api/kek.ts';

const ROTATION_WORDS: Record<Rotation['status'], string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Finished with failures',
};

function RotationProgress({ rotation }: { rotation: Rotation }) {
  const percent = rotation.total === 0 ? 100 : Math.round((rotation.done / rotation.total) * 100);
  return (
    <section className="card" aria-labelledby="rotation-title">
      <h2 id="rotation-title">Latest rotation</h2>
      <p>
        <strong>{ROTATION_WORDS[rotation.status]}</strong>: {rotation.done} of {rotation.total} data keys processed, {rotation.rewrapped}{' '}
        re-wrapped to <code>{rotation.toKeyId}</code>, {rotation.failed} failed.
      </p>
      {rotation.status === 'running' ? (
        <div className="progress">
          <progress aria-label="Rotation progress" max={100} value={percent} />
          <span className="progress-text">{percent}%</span>
        </div>
      ) : null}
      <p className="muted">
        Started {formatDateTime(rotation.startedAt)}
        {rotation.finishedAt ? `, finished ${formatDateTime(rotation.finishedAt)}` : ''}.
      </p>
    </section>
  );
}

const COLUMNS = ['Key id', 'DEKs wrapped', 'Role', 'Configured on the server'] as const;

function KeyTable({ status }: { status: KekStatus }) {
  return (
    <DataTable columns={COLUMNS}>
      {status.keys.map((key) => (
        <tr key={key.keyId}>
          <td data-label={COLUMNS[0]}>
            <code>{key.keyId}</code>
          </td>
          <td data-label={COLUMNS[1]}>{key.wrappedDeks}</td>
          <td data-label={COLUMNS[2]}>
            {key.active ? 'Active (new data is wrapped with it)' : key.wrappedDeks === 0 ? 'Retired: wraps nothing, may be removed' : 'Previous: still wraps data'}
          </td>
          <td data-label={COLUMNS[3]}>{key.configured ? 'Yes' : <strong>No: files under it cannot be opened</strong>}</td>
        </tr>
      ))}
    </DataTable>
  );
}

/** Admin > Master key: what wraps what, rotation progress, Rotate and Verify. */
export function MasterKey() {
  const status = useKekStatus();
  const rotate = useRotateKek();
  const verify = useVerifyKek();
  const [confirming, setConfirming] = useState(false);

  if (status.isPending) return <Spinner label="Loading the master key status…" />;
  if (status.error) return <ErrorAlert error={status.error} />;
  const data = status.data;
  const pending = data.keys.filter((key) => !key.active).reduce((n, key) => n + key.wrappedDeks, 0);
  const running = data.rotation?.status === 'running';

  return (
    <>
      <p>
        Active key id: <code>{data.activeKeyId}</code>. The table counts the data keys (DEKs) each master key id still wraps.
      </p>
      <KeyTable status={data} />
      {data.rotation ? <RotationProgress rotation={data.rotation} /> : <p>No rotation has run yet.</p>}
      <div className="actions">
        <button type="button" className="button-primary" onClick={() => setConfirming(true)} disabled={running || rotate.isPending}>
          Rotate
        </button>
        <button type="button" onClick={() => verify.mutate({ deep: true })} disabled={verify.isPending}>
          {verify.isPending ? 'Verifying…' : 'Verify'}
        </button>
      </div>
      <ErrorAlert error={rotate.error} title="Rotation not started." />
      <ErrorAlert error={verify.error} title="Verification failed to run." />
      {verify.data ? (
        <div className={verify.data.ok ? 'alert alert-success' : 'alert alert-error'} role="status">
          {verify.data.ok
            ? `Verified: all ${verify.data.checked} data keys open and every file authenticates.`
            : `${verify.data.failed.length} of ${verify.data.checked} files failed: ${verify.data.failed.map((f) => `${f.fileId} (${f.reason})`).join(', ')}`}
        </div>
      ) : null}
      {confirming ? (
        <Dialog title="Rotate the master key" onClose={() => setConfirming(false)} busy={rotate.isPending}>
          <p>
            Rotation re-wraps every data key ({pending} still under an older key) to the active key <code>{data.activeKeyId}</code>, in the
            background, while people keep uploading and downloading.
          </p>
          <p>
            The new key must already be configured: the server started with it as <code>MASTER_KEY</code> and the old one in{' '}
            <code>MASTER_KEY_PREVIOUS</code>. Remove the old key only once it wraps 0 data keys.
          </p>
          <div className="actions">
            <button
              type="button"
              className="button-primary"
              data-autofocus
              disabled={rotate.isPending}
              onClick={() => rotate.mutate(undefined, { onSettled: () => setConfirming(false) })}
            >
              Start rotation
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={rotate.isPending}>
              Cancel
            </button>
          </div>
        </Dialog>
      ) : null}
    </>
  );
}
