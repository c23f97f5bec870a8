import { Alerts } from '../../features/admin/components/alerts.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function AdminAlertsPage() {
  usePageTitle('Alerts');
  return (
    <>
      <h1>Alerts</h1>
      <Alerts />
    </>
  );
}
