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
