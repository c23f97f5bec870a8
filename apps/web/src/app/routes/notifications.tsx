import { NotificationsList } from '../../features/notifications/components/notifications-list.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function NotificationsPage() {
  usePageTitle('Notifications');
  return (
    <>
      <h1>Notifications</h1>
      <NotificationsList />
    </>
  );
}
