const LABELS: Record<string, string> = {
  none: 'No access',
  pending: 'Pending',
  approved: 'Approved',
  suspended: 'Suspended',
  denied: 'Denied',
  revoked: 'Revoked',
  expired: 'Expired',
};

/** What each status means, in words: shown as the badge's tooltip and in StatusLegend. */
export const STATUS_MEANINGS: Record<string, string> = {
  none: 'Nobody has asked for this file yet.',
  pending: 'Asked for, waiting for the owner to approve or deny.',
  approved: 'The owner granted access: the file can be downloaded within its limits.',
  suspended: 'Paused after unusual access was detected; its key was deleted. The owner can approve it again or revoke it.',
  denied: 'The owner refused the request. A new request can be made.',
  revoked: 'Access was withdrawn (or the file deleted); the key for it is gone.',
  expired: 'The grant ended: its end date passed or its downloads were used up. A new request can be made.',
};

/** Every status a request can have, in the order of its life. */
export const REQUEST_STATUSES = ['pending', 'approved', 'suspended', 'denied', 'revoked', 'expired'] as const;

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} title={STATUS_MEANINGS[status]}>
      {LABELS[status] ?? status}
    </span>
  );
}

/** A short key to the statuses, for screens that list them (the tooltip alone reaches no keyboard). */
export function StatusLegend({ statuses }: { statuses: readonly string[] }) {
  return (
    <details className="legend">
      <summary>What the statuses mean</summary>
      <dl>
        {statuses.map((status) => (
          <div key={status}>
            <dt>
              <StatusBadge status={status} />
            </dt>
            <dd>{STATUS_MEANINGS[status] ?? status}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
