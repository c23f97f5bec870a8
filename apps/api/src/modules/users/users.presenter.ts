import type { SessionState } from '../auth/session-state.repository.ts';
import type { Role, User } from '@sfe/contract';
import type { UserRow } from './users.repository.ts';

export function toUserDto(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    role: row.role as Role,
    status: row.status === 'disabled' ? 'disabled' : 'active',
    publicKeyFingerprint: row.publicKeyFingerprint,
    keyGeneratedAt: row.keyGeneratedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The same answer from the row the per-request authentication check read. */
export function accountDto(account: SessionState): User {
  return {
    id: account.id,
    username: account.username,
    role: account.role as Role,
    status: account.status === 'disabled' ? 'disabled' : 'active',
    publicKeyFingerprint: account.publicKeyFingerprint,
    keyGeneratedAt: account.keyGeneratedAt?.toISOString() ?? null,
    createdAt: account.createdAt.toISOString(),
  };
}
