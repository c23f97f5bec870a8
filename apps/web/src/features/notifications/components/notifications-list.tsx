import type { Notification } from '@sfe/contract';
import { useId, useState } from 'react';
import { Link } from 'react-router';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { paths } from '../../../lib/paths.ts';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useMarkAllRead, useMarkRead, useNotifications } from '../api/notifications.ts';

function NotificationItem({ notification }: { notification: Notification }) {
  const read = useMarkRead();
  const unread = notification.readAt === null;
  return (
    <li className={unread ? 'notification unread' : 'notification'} data-kind={notification.kind} data-testid="notification">
      <p className="notification-message">
        {unread ? <span className="visually-hidden">Unread: </span> : null}
        {notification.message}
        {notification.count > 1 ? <span className="muted"> ({notification.count} events)</span> : null}
      </p>
      <p className="muted notification-meta">
        {formatDateTime(notification.createdAt)}
        {notification.fileId ? (
          <>
            {' · '}
            <Link to={paths.file(notification.fileId)}>Open the file</Link>
          </>
        ) : null}
      </p>
      {unread ? (
        <button type="button" className="button-small" disabled={read.isPending} onClick={() => read.mutate(notification.id)}>
          Mark as read
        </button>
      ) : null}
      <ErrorAlert error={read.error} title="Not marked." />
    </li>
  );
}

/** The caller's notifications, newest first; unread ones only unless asked. */
export function NotificationsList() {
  const toggleId = useId();
  const [onlyUnread, setOnlyUnread] = useState(false);
  const pages = useCursorPages(String(onlyUnread));
  const query = useNotifications({ limit: 50, ...(onlyUnread ? { unread: true } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) });
  const all = useMarkAllRead();
  const data = query.data;
  return (
    <section className="card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">{onlyUnread ? 'Unread notifications' : 'All notifications'}</h2>
      <div className="toolbar">
        <label className="choice" htmlFor={toggleId}>
          <input id={toggleId} type="checkbox" checked={onlyUnread} onChange={(e) => setOnlyUnread(e.target.checked)} />
          Unread only
        </label>
        <button type="button" className="button-small" disabled={all.isPending || !data || data.unread === 0} onClick={() => all.mutate()}>
          Mark all as read
        </button>
      </div>
      <ErrorAlert error={all.error} title="Not marked." />
      {data ? <p className="muted">{data.unread === 0 ? 'Nothing unread.' : `${data.unread} unread.`}</p> : null}
      <ListStatus query={query} loading="Loading notifications…" empty={data && data.items.length === 0 ? 'No notification here.' : null} />
      {data && data.items.length > 0 ? (
        <ul className="notifications">
          {data.items.map((notification) => (
            <NotificationItem key={notification.id} notification={notification} />
          ))}
        </ul>
      ) : null}
      <Pager pages={pages} nextCursor={data?.nextCursor} />
    </section>
  );
}
