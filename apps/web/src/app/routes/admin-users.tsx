import { Users } from '../../features/admin/components/users.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function AdminUsersPage() {
  usePageTitle('Users');
  return (
    <>
      <h1>Users</h1>
      <Users />
    </>
  );
}
