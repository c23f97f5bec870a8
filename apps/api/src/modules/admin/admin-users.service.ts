import { createHash } from 'node:crypto';
import type { AdminUser, AdminUserList, MfaResetResponse, AdminUsersQuery, ErasureCertificate, IncidentResponse, Role } from '@sfe/contract';
import { erasureCertificateMessage, type AuditSigner } from '../../lib/audit-signer.ts';
import type { Actor } from '../../lib/actor.ts';
import { AppError, conflict, invalidField, notFound } from '../../lib/errors.ts';
import type { KeyStore } from '../../stores/keystore/index.ts';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { RefreshTokensRepository } from '../auth/refresh-tokens.repository.ts';
import type { FilesService } from '../files/files.service.ts';
import type { MfaService } from '../mfa/mfa.service.ts';
import type { AdminUserRow, UsersRepository } from '../users/users.repository.ts';
import { notices } from '../notifications/notifications.messages.ts';
import type { NotificationsRepository } from '../notifications/notifications.repository.ts';

export interface AdminUsersServiceDeps {
  users: UsersRepository;
  accessRequests: Pick<AccessRequestsRepository, 'revokeAllOf' | 'activeGrantCount'>;
  refreshTokens: Pick<RefreshTokensRepository, 'revokeAllForUser'>;
  keyStore: Pick<KeyStore, 'get' | 'delete'>;
  files: Pick<FilesService, 'shredAllOf'>;
  mfa: Pick<MfaService, 'reset' | 'erase'>;
  audit: AuditLog;
  signer: AuditSigner;
  /** Erasure removes the user's notices, settings and queued emails. */
  notifications?: Pick<NotificationsRepository, 'eraseUser'>;
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

  type Operation = 'account_disabled' | 'account_enabled' | 'access_revoked' | 'private_key_deleted' | 'user_erased' | 'mfa_reset';

  const audited = (actor: Actor, operation: Operation, targetUserId: string, details: Record<string, string | number | boolean | null>, success = true) =>
    audit.record({ operation, success, userId: actor.id, ipAddress: actor.ip, details: { targetUserId, ...details } });

  /** Loads the account an action is about; a refusal (unknown, own account, erased) is on record too. */
  async function target(actor: Actor, id: string, operation: Operation, action: string, check?: (row: AdminUserRow) => void): Promise<AdminUserRow> {
    try {
      const row = await users.findForAdmin(id);
      if (!row) throw notFound('User');
      if (row.id === actor.id && operation !== 'access_revoked') throw conflict(`An admin cannot ${action} their own account.`);
      check?.(row);
      return row;
    } catch (error) {
      if (error instanceof AppError) await audited(actor, operation, id, { refused: error.code }, false);
      throw error;
    }
  }

  const notErased = (message: string) => (row: AdminUserRow) => {
    if (row.status === 'erased') throw conflict(message);
  };

  type PlannedRecord = [Operation, Record<string, string | number | boolean | null>];

  /**
   * Fail closed: the records of an action are written before the change, so no change
   * is made that the log cannot show. If a record cannot be written nothing changes
   * (the ones already written get a failure record); if the change itself fails, each
   * record gets a failure record marked incomplete.
   */
  async function recordedFirst<T>(actor: Actor, targetUserId: string, records: PlannedRecord[], change: () => Promise<T>): Promise<T> {
    const written: PlannedRecord[] = [];
    const undo = (extra: Record<string, boolean>) =>
      Promise.all(written.map(([operation, details]) => audited(actor, operation, targetUserId, { ...details, ...extra }, false)));
    for (const entry of records) {
      try {
        await audited(actor, entry[0], targetUserId, entry[1]);
      } catch (error) {
        await undo({ notPerformed: true });
        throw error;
      }
      written.push(entry);
    }
    try {
      return await change();
    } catch (error) {
      await undo({ incomplete: true });
      throw error;
    }
  }

  const disableRecord = (row: AdminUserRow, purpose: string): PlannedRecord => ['account_disabled', { alreadyDisabled: row.status === 'disabled', purpose }];
  const revokeRecord = (purpose: string): PlannedRecord => ['access_revoked', { keyDeleted: true, purpose }];
  const keyRecord = (purpose: string): PlannedRecord => ['private_key_deleted', { purpose }];

  async function disableNow(row: AdminUserRow): Promise<number> {
    await users.setStatus(row.id, 'active', 'disabled');
    // Refresh tokens go even when the account was already disabled: nothing may survive an incident.
    return (await deps.refreshTokens.revokeAllForUser(row.id, new Date())).count;
  }

  type Purpose = 'incident' | 'erasure' | 'admin';
  /** The other party of each revoked grant is told (the organization, the consultant), never the account acted on. */
  const revokeNow = (actor: Actor, row: AdminUserRow, purpose: Purpose) =>
    deps.accessRequests.revokeAllOf(row.id, actor.id, new Date(), (revoked) => revoked.flatMap((grant) => notices.closedByAdmin(grant, row.id, purpose)));

  /** Grants first: once the key is gone they could never open, so they must not look open. */
  async function deleteKeyNow(actor: Actor, row: AdminUserRow, purpose: Purpose): Promise<{ deleted: boolean; grantsRevoked: number }> {
    const grantsRevoked = await revokeNow(actor, row, purpose);
    return { deleted: await deps.keyStore.delete(row.id), grantsRevoked };
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
      const row = await target(actor, id, 'account_disabled', 'disable', notErased('The account is erased.'));
      await recordedFirst(actor, id, [disableRecord(row, 'admin')], () => disableNow(row));
      return present(await reload(id));
    },

    async enable(actor: Actor, id: string): Promise<AdminUser> {
      const row = await target(actor, id, 'account_enabled', 'enable', notErased('An erased account cannot be enabled.'));
      await recordedFirst(actor, id, [['account_enabled', { alreadyActive: row.status === 'active' }]], () => users.setStatus(id, 'disabled', 'active'));
      return present(await reload(id));
    },

    async revokeGrants(actor: Actor, id: string): Promise<{ grantsRevoked: number }> {
      const row = await target(actor, id, 'access_revoked', 'revoke the grants of');
      return { grantsRevoked: await recordedFirst(actor, id, [revokeRecord('admin')], () => revokeNow(actor, row, 'admin')) };
    },

    async deletePrivateKey(actor: Actor, id: string): Promise<{ privateKeyDeleted: true }> {
      const row = await target(actor, id, 'private_key_deleted', 'delete the private key of');
      await recordedFirst(actor, id, [revokeRecord('admin'), keyRecord('admin')], () => deleteKeyNow(actor, row, 'admin'));
      return { privateKeyDeleted: true };
    },

    /** The compromised-account response in one call: disable, end sessions, revoke grants, delete the key. */
    async incident(actor: Actor, id: string): Promise<IncidentResponse> {
      const row = await target(actor, id, 'account_disabled', 'run an incident on', notErased('The account is erased.'));
      const records = [disableRecord(row, 'incident'), revokeRecord('incident'), keyRecord('incident')];
      return recordedFirst(actor, id, records, async () => {
        const sessionsEnded = await disableNow(row);
        const { deleted, grantsRevoked } = await deleteKeyNow(actor, row, 'incident');
        return { disabled: true, grantsRevoked, privateKeyDeleted: deleted, sessionsEnded };
      });
    },

    /**
     * Right to erasure: key destroyed, grants revoked, an organization's files
     * crypto-shredded, personal fields removed. Audit records keep the user id, which
     * no longer leads to a name. Answers a certificate signed with the audit key.
     */
    async erase(actor: Actor, id: string): Promise<ErasureCertificate> {
      const row = await target(actor, id, 'user_erased', 'erase', notErased('The account is already erased.'));
      const pseudonym = pseudonymOf(row.id);
      const records = [revokeRecord('erasure'), keyRecord('erasure'), ['user_erased', { pseudonym, role: row.role }] satisfies PlannedRecord];
      const { deleted, grantsRevoked, filesShredded } = await recordedFirst(actor, id, records, async () => {
        const done = await deleteKeyNow(actor, row, 'erasure');
        const shredded = row.role === 'organization' ? await deps.files.shredAllOf(actor, row.id) : 0;
        await users.erase(row.id, pseudonym);
        await deps.notifications?.eraseUser(row.id, row.username);
        await deps.mfa.erase(row.id);
        await deps.refreshTokens.revokeAllForUser(row.id, new Date());
        return { ...done, filesShredded: shredded };
      });
      const fields = {
        userId: row.id,
        erasedAt: new Date().toISOString(),
        privateKeyDestroyed: deleted || !(await deps.keyStore.get(row.id)),
        filesShredded,
        grantsRevoked,
        keyId: deps.signer.keyId,
      };
      const signature = deps.signer.sign(erasureCertificateMessage(fields));
      return { ...fields, pseudonym, algorithm: 'Ed25519', signature };
    },

    /**
     * A user lost their authenticator: every second factor and recovery code goes and
     * every session ends (token version), so they sign in with the password and enrol again.
     */
    async mfaReset(actor: Actor, id: string): Promise<MfaResetResponse> {
      const row = await target(actor, id, 'mfa_reset', 'reset the second factors of', notErased('The account is erased.'));
      const removed = await recordedFirst(actor, id, [['mfa_reset', { purpose: 'admin' }]], async () => {
        const result = await deps.mfa.reset(row.id);
        await deps.refreshTokens.revokeAllForUser(row.id, new Date());
        return result;
      });
      return { user: await present(await reload(id)), ...removed };
    },

    /** Audit listener: the last successful sign-in, shown to admins. */
    async onLogin(userId: string): Promise<void> {
      await users.touchLastLogin(userId, new Date());
    },
  };
}
export type AdminUsersService = ReturnType<typeof createAdminUsersService>;
