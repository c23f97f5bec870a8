import type { AdminUser, AdminUsersQuery } from '@sfe/contract';
import { useCallback, useState } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { useUser } from '../../../lib/session-context.tsx';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useAdminUsers } from '../api/users.ts';
import { SearchBox } from '../../../components/ui/search-box.tsx';
import { SelectField, type Choice } from './select-field.tsx';
import { UserActionDialog, UserActions, type ConfirmedAction } from './user-actions.tsx';

type RoleFilter = NonNullable<AdminUsersQuery['role']> | 'all';
type StatusFilter = NonNullable<AdminUsersQuery['status']> | 'all';

const ROLES: Choice<RoleFilter>[] = [
  { value: 'all', label: 'Any role' },
  { value: 'organization', label: 'Organization' },
  { value: 'consultant', label: 'Consultant' },
  { value: 'admin', label: 'Administrator' },
];
const STATUSES: Choice<StatusFilter>[] = [
  { value: 'all', label: 'Any status' },
  { value: 'active', label: 'Active' },
  { value: 'disabled', label: 'Disabled' },
  { value: 'erased', label: 'Erased' },
];
const ROLE_WORDS: Record<AdminUser['role'], string> = { organization: 'Organization', consultant: 'Consultant', admin: 'Administrator' };
const STATUS_WORDS: Record<AdminUser['status'], string> = { active: 'Active', disabled: 'Disabled', erased: 'Erased' };
const COLUMNS = ['User', 'Role', 'Status', 'Last login', 'Failed logins', 'Lock', 'Private key', 'Active grants', 'Actions'] as const;

function lockWords(user: AdminUser): string {
  return user.lockedUntil ? `Locked until ${formatDateTime(user.lockedUntil)}` : 'Not locked';
}

function UserRow({ user, self, onOpen }: { user: AdminUser; self: boolean; onOpen: (action: ConfirmedAction) => void }) {
  return (
    <tr data-user={user.username}>
      <td data-label={COLUMNS[0]} className="name">
        <strong>{user.username}</strong>
        {self ? <span className="muted"> (you)</span> : null}
      </td>
      <td data-label={COLUMNS[1]}>{ROLE_WORDS[user.role]}</td>
      <td data-label={COLUMNS[2]}>
        <span className={`badge badge-${user.status === 'active' ? 'ok' : 'failed'}`}>{STATUS_WORDS[user.status]}</span>
      </td>
      <td data-label={COLUMNS[3]}>{user.lastLoginAt ? formatDateTime(user.lastLoginAt) : 'Never'}</td>
      <td data-label={COLUMNS[4]}>{user.failedLogins}</td>
      <td data-label={COLUMNS[5]}>{lockWords(user)}</td>
      <td data-label={COLUMNS[6]}>{user.hasPrivateKey ? 'Yes' : 'No'}</td>
      <td data-label={COLUMNS[7]}>{user.activeGrants}</td>
      <td data-label={COLUMNS[8]}>
        {/* An admin cannot act on their own account (nobody would be left to undo it). */}
        {self ? <span className="muted">Your own account</span> : <UserActions user={user} onOpen={onOpen} />}
      </td>
    </tr>
  );
}

/** Admin > Users: every account, with search, filters and the account actions. */
export function Users() {
  const me = useUser();
  const [q, setQ] = useState('');
  const [role, setRole] = useState<RoleFilter>('all');
  const [status, setStatus] = useState<StatusFilter>('all');
  const [open, setOpen] = useState<{ action: ConfirmedAction; user: AdminUser } | null>(null);
  const pages = useCursorPages(`${q}|${role}|${status}`);
  const onSearch = useCallback((value: string) => setQ(value), []);
  const query = useAdminUsers({
    limit: 50,
    ...(q ? { q } : {}),
    ...(role === 'all' ? {} : { role }),
    ...(status === 'all' ? {} : { status }),
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  });
  const data = query.data;
  return (
    <section className="card" aria-labelledby="users-title">
      <h2 id="users-title">Accounts</h2>
      <div className="filters">
        <SearchBox label="Search by username" onSearch={onSearch} />
        <SelectField label="Role" value={role} choices={ROLES} onChange={setRole} />
        <SelectField label="Status" value={status} choices={STATUSES} onChange={setStatus} />
      </div>
      <ListStatus query={query} loading="Loading accounts…" empty={data && data.items.length === 0 ? 'No account matches.' : null} />
      {data && data.items.length > 0 ? (
        <DataTable columns={COLUMNS}>
          {data.items.map((user) => (
            <UserRow key={user.id} user={user} self={user.id === me.id} onOpen={(action) => setOpen({ action, user })} />
          ))}
        </DataTable>
      ) : null}
      <Pager pages={pages} nextCursor={data?.nextCursor} />
      {open ? <UserActionDialog action={open.action} user={open.user} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}
