import { useOpenAlertCount } from '../api/alerts.ts';

/** The open-alert count beside "Alerts" in the navigation, refreshed by polling. */
export function OpenAlertsBadge() {
  const count = useOpenAlertCount();
  const n = count.data?.count ?? 0;
  if (n === 0) return null;
  const text = count.data?.more ? `${n}+` : String(n);
  return (
    <span className="nav-badge" data-testid="open-alerts">
      {text}
      <span className="visually-hidden"> open</span>
    </span>
  );
}
