import { useUnreadCount } from '../api/notifications.ts';

/** The unread count beside "Notifications" in the navigation, refreshed by polling. */
export function UnreadBadge() {
  const count = useUnreadCount();
  const n = count.data?.unread ?? 0;
  if (n === 0) return null;
  return (
    <span className="nav-badge" data-testid="unread-notifications">
      {n > 99 ? '99+' : String(n)}
      <span className="visually-hidden"> unread</span>
    </span>
  );
}
