import { formatBytes } from '../../lib/format.ts';

/** A native <progress>: announced by screen readers; indeterminate when the total is unknown. */
export function ProgressBar({ label, loaded, total }: { label: string; loaded: number; total: number | null }) {
  const percent = total ? Math.min(100, Math.round((loaded / total) * 100)) : null;
  return (
    <div className="progress">
      <progress aria-label={label} max={100} value={percent ?? undefined} />
      <span className="progress-text">
        {percent === null ? formatBytes(loaded) : `${percent}% (${formatBytes(loaded)} of ${formatBytes(total ?? 0)})`}
      </span>
    </div>
  );
}
