import { MasterKey } from '../../features/admin/components/master-key.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function AdminMasterKeyPage() {
  usePageTitle('Master key');
  return (
    <>
      <h1>Master key</h1>
      <MasterKey />
    </>
  );
}
