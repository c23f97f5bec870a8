import { Audit } from '../../features/admin/components/audit.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function AdminAuditPage() {
  usePageTitle('Audit');
  return (
    <>
      <h1>Audit</h1>
      <Audit />
    </>
  );
}
