import { createHash } from 'node:crypto';
import type { AdminUser, AdminUserList, AdminUsersQuery, ErasureCertificate, IncidentResponse, Role } from '@sfe/contract';
import { erasureCertificateMessage, type AuditSigner } from '../../lib/audit-signer.ts';
import type { Actor } from '../../lib/actor.ts';
import { conflict, invalidField, notFound } from '../../lib/errors.ts';
import type { KeyStore } from '../../stores/keystore/index.ts';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { RefreshTokensRepository } from '../auth/refresh-tokens.repository.ts';
import type { FilesService } from '../files/files.service.ts';
import type { AdminUserRow, UsersRepository } from '../users/users.repository.ts';

export interface AdminUsersServiceDeps {
  users: UsersRepository;
  accessRequests: Pick<AccessRequestsRepository, 'revokeAllOf' | 'activeGrantCount'>;
  refreshTokens: Pick<RefreshTokensRepository, 'revokeAllForUser'>;
  keyStore: Pick<KeyStore, 'get' | 'delete'>;
  files: Pick<FilesService, 'shredAllOf'>;
  audit: AuditLog;
  signer: AuditSigner;
}

/** The pseudonym that replaces an erased username: stable per user, reveals nothing of it. */
export const pseudonymOf = (userId: string) => `erased-${createHash('sha256').update(`sfe-erasure:${userId}`).digest('hex').slice(0, 16)}`;

/**
 * Accounts and incident response (API.md Admin). Every call is audited with the admin
 * as actor and the account concerned as `targetUserId`. An admin cannot disable, erase
 * or key-delete their own account (that would leave nobody to undo it).
 */
export function createAdminUsersService(deps: AdminUsersServiceDeps) {
  const { users, audit } = deps;

  async function present(row: AdminUserRow, now = new Date()): Promise<AdminUser> {
    const [record, activeGrants] = await Promise.all([deps.keyStore.get(row.id), deps.accessRequests.activeGrantCount(row.id, now)]);
    return {
      id: row.id,
      username: row.username,
      role: row.role as Role,
      status: row.status === 'disabled' || row.status === 'erased' ? row.status : 'active',
      publicKeyFingerprint: row.publicKeyFingerprint,
      keyGeneratedAt: row.keyGeneratedAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
      failedLogins: row.failedLoginCount,
      lockedUntil: row.lockedUntil && row.lockedUntil > now ? row.lockedUntil.toISOString() : null,
      hasPrivateKey: record !== null,
      activeGrants,
    };
  }

  async function reload(id: string): Promise<AdminUserRow> {
    const row = await users.findForAdmin(id);
    if (!row) throw notFound('User');
    return row;
  }

  async function target(actor: Actor, id: string, action: string): Promise<AdminUserRow> {
    const row = await users.findForAdmin(id);
    if (!row) throw notFound('User');
    if (row.id === actor.id) throw conflict(`An admin cannot ${action} their own account.`);
    return row;
  }

  const audited = (actor: Actor, operation: 'account_disabled' | 'account_enabled' | 'access_revoked' | 'private_key_deleted' | 'user_erased', targetUserId: string, details: Record<string, string | number | boolean | null>, success = true) =>
    audit.record({ operation, success, userId: actor.id, ipAddress: actor.ip, details: { targetUserId, ...details } });

  async function disable(actor: Actor, row: AdminUserRow): Promise<{ disabled: boolean; sessionsEnded: number }> {
    if (row.status === 'erased') throw conflict('The account is erased.');
    const changed = await users.setStatus(row.id, 'active', 'disabled');
    // Refresh tokens go even when the account was already disabled: nothing may survive an incident.
    const ended = await deps.refreshTokens.revokeAllForUser(row.id, new Date());
    await audited(actor, 'account_disabled', row.id, { sessionsEnded: ended.count, alreadyDisabled: !changed });
    return { disabled: true, sessionsEnded: ended.count };
  }

  async function revokeGrants(actor: Actor, row: AdminUserRow, purpose: string): Promise<number> {
    const revoked = await deps.accessRequests.revokeAllOf(row.id, actor.id, new Date());
    await audited(actor, 'access_revoked', row.id, { grantsRevoked: revoked, keyDeleted: true, purpose });
    return revoked;
  }

  async function deletePrivateKey(actor: Actor, row: AdminUserRow, purpose: string): Promise<{ deleted: boolean; grantsRevoked: number }> {
    // Grants first: once the key is gone they could never open, so they must not look open.
    const grantsRevoked = await revokeGrants(actor, row, purpose);
    let deleted: boolean;
    try {
      deleted = await deps.keyStore.delete(row.id);
    } catch (error) {
      await audited(actor, 'private_key_deleted', row.id, { purpose }, false);
      throw error;
    }
    await audited(actor, 'private_key_deleted', row.id, { existed: deleted, purpose });
    return { deleted, grantsRevoked };
  }

  return {
    async list(query: AdminUsersQuery): Promise<AdminUserList> {
      if (query.cursor && !(await users.exists(query.cursor))) throw invalidField('querystring.cursor', 'is not a cursor of this list');
      const page = await users.listForAdmin({
        limit: query.limit ?? 50,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.role ? { role: query.role } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.q ? { q: query.q } : {}),
      });
      const now = new Date();
      return { items: await Promise.all(page.rows.map((row) => present(row, now))), nextCursor: page.nextCursor };
    },

    async disable(actor: Actor, id: string): Promise<AdminUser> {
      await disable(actor, await target(actor, id, 'disable'));
      return present(await reload(id));
    },

    async enable(actor: Actor, id: string): Promise<AdminUser> {
      const row = await target(actor, id, 'enable');
      if (row.status === 'erased') throw conflict('An erased account cannot be enabled.');
      const changed = await users.setStatus(id, 'disabled', 'active');
      await audited(actor, 'account_enabled', id, { alreadyActive: !changed });
      return present(await reload(id));
    },

    async revokeGrants(actor: Actor, id: string): Promise<{ grantsRevoked: number }> {
      const row = await users.findForAdmin(id);
      if (!row) throw notFound('User');
      return { grantsRevoked: await revokeGrants(actor, row, 'admin') };
    },

    async deletePrivateKey(actor: Actor, id: string): Promise<{ privateKeyDeleted: true }> {
      await deletePrivateKey(actor, await target(actor, id, 'delete the private key of'), 'admin');
      return { privateKeyDeleted: true };
    },

    /** The compromised-account response in one call: disable, end sessions, revoke grants, delete the key. */
    async incident(actor: Actor, id: string): Promise<IncidentResponse> {
      const row = await target(actor, id, 'run an incident on');
      const { disabled, sessionsEnded } = await disable(actor, row);
      const { deleted, grantsRevoked } = await deletePrivateKey(actor, row, 'incident');
      return { disabled, grantsRevoked, privateKeyDeleted: deleted, sessionsEnded };
    },

    /**
     * Right to erasure: key destroyed, grants revoked, an organization's files
     * crypto-shredded, personal fields removed. Audit records keep the user id, which
     * no longer leads to a name. Answers a certificate signed with the audit key.
     */
    async erase(actor: Actor, id: string): Promise<ErasureCertificate> {
      const row = await target(actor, id, 'erase');
      if (row.status === 'erased') throw conflict('The account is already erased.');
      const { deleted, grantsRevoked } = await deletePrivateKey(actor, row, 'erasure');
      const filesShredded = row.role === 'organization' ? await deps.files.shredAllOf(actor, row.id) : 0;
      const pseudonym = pseudonymOf(row.id);
      await users.erase(row.id, pseudonym);
      await deps.refreshTokens.revokeAllForUser(row.id, new Date());
      const fields = {
        userId: row.id,
        erasedAt: new Date().toISOString(),
        privateKeyDestroyed: deleted || !(await deps.keyStore.get(row.id)),
        filesShredded,
        grantsRevoked,
        keyId: deps.signer.keyId,
      };
      const signature = deps.signer.sign(erasureCertificateMessage(fields));
      await audited(actor, 'user_erased', row.id, { pseudonym, filesShredded, grantsRevoked, privateKeyDestroyed: fields.privateKeyDestroyed });
      return { ...fields, pseudonym, algorithm: 'Ed25519', signature };
    },

    /** Audit listener: the last successful sign-in, shown to admins. */
    async onLogin(userId: string): Promise<void> {
      await users.touchLastLogin(userId, new Date());
    },
  };
}
export type AdminUsersService = ReturnType<typeof createAdminUsersService>;
