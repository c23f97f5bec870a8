import type { ChangePasswordBody, MyKeysResponse, PublicKeyResponse, RotateKeysBody, RotateKeysResponse } from '@sfe/contract';
import {
  DecryptionFailedError,
  generateRsaKeyPair,
  hashPassword,
  protectPrivateKey,
  verifyPassword,
  type RsaKeySize,
} from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { AppError, conflict, fail, notFound } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import { keyFieldsOf, type KeyMaterial, type KeyStore, type NewPrivateKeyRecord } from '../../stores/keystore/index.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import { unwrapGrantDek, wrapGrantDek } from '../access-requests/grant-wrap.ts';
import type { RefreshTokensRepository } from '../auth/refresh-tokens.repository.ts';
import type { UsersRepository } from './users.repository.ts';
import type { KeyRotationRepository } from './key-rotation.repository.ts';
import type { UnlockOptions, UnlockPrivateKey } from './private-key-unlock.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';

export interface UsersServiceDeps {
  users: UsersRepository;
  keyRotation: KeyRotationRepository;
  accessRequests: AccessRequestsRepository;
  refreshTokens: RefreshTokensRepository;
  keyStore: KeyStore;
  audit: AuditLog;
  kdfLimiter: Limiter;
  /** RSA key generation: its own small pool and queue, so it never starves logins and downloads. */
  keygenLimiter: Limiter;
  passwordAttempts: PasswordAttempts;
  unlockPrivateKey: UnlockPrivateKey;
  kdf: { pbkdf2Iterations: number; scrypt: { N: number; r: number; p: number } };
}

const keyAlgorithm = (stored: string | null): 'RSA-2048' | 'RSA-4096' => (stored === 'RSA-4096' ? 'RSA-4096' : 'RSA-2048');

const wrongPassword = () => fail('WRONG_PASSWORD', 'The password is not correct; nothing was changed.');

export function createUsersService(deps: UsersServiceDeps) {
  const { users, keyStore, audit, kdfLimiter } = deps;
  const unlock = (actor: Actor, password: string, options?: UnlockOptions) =>
    deps.unlockPrivateKey(actor, password, { purpose: 'key_management' }, options);

  return {
    async myKeys(actor: Actor): Promise<MyKeysResponse> {
      const user = await users.publicKey(actor.id);
      if (!user?.publicKeyPem || !user.publicKeyFingerprint || !user.keyGeneratedAt) throw notFound('Key pair');
      const record = await keyStore.get(actor.id);
      return {
        algorithm: keyAlgorithm(user.keyAlgorithm),
        publicKeyPem: user.publicKeyPem,
        fingerprint: user.publicKeyFingerprint,
        keyGeneratedAt: user.keyGeneratedAt.toISOString(),
        privateKey: record
          ? {
              createdAt: record.createdAt.toISOString(),
              lastAccessed: record.lastAccessed?.toISOString() ?? null,
              accessCount: record.accessCount,
              kdf: record.kdf,
              iterations: record.iterations,
            }
          : null,
      };
    },

    async publicKey(id: string): Promise<PublicKeyResponse> {
      const user = await users.publicKey(id);
      if (!user?.publicKeyPem || !user.publicKeyFingerprint) throw notFound('User');
      return {
        publicKeyPem: user.publicKeyPem,
        fingerprint: user.publicKeyFingerprint,
        algorithm: keyAlgorithm(user.keyAlgorithm),
      };
    },

    /**
     * New key pair; every approved grant of the caller is re-wrapped to it. All or
     * nothing: the key store swap is undone if the database step fails. Until the
     * database commits, the key store keeps the replaced key as its previous slot, so a
     * crash between the two writes leaves both keys openable: grants and the database
     * still name the old one, and the next rotation starts from it.
     */
    async rotateKeys(actor: Actor, body: RotateKeysBody): Promise<RotateKeysResponse> {
      // The database's public key names the key pair to rotate from: the key store's
      // current one, or its previous one when an earlier rotation was cut short between
      // the two writes (its new key was never committed, so nothing is wrapped to it).
      const databaseFingerprint = (await users.publicKey(actor.id))?.publicKeyFingerprint ?? null;
      const { record, key: from, privateKeyDer } = await unlock(actor, body.password, { fingerprint: databaseFingerprint });
      const fromFingerprint = databaseFingerprint ?? from.fingerprint;
      try {
        const bits: RsaKeySize = body.keySize ?? (from.algorithm === 'RSA-4096' ? 4096 : 2048);
        const keyPair = await deps.keygenLimiter.run(() => generateRsaKeyPair(bits)).catch(async (error: unknown) => {
          if (!(error instanceof AppError)) {
            await audit.record({ operation: 'keypair_generated', success: false, userId: actor.id, ipAddress: actor.ip, details: { algorithm: `RSA-${bits}`, purpose: 'rotation' } });
          }
          throw error;
        });
        const rewrapped: Array<{ id: string; wrappedSymmetricKey: Buffer }> = [];
        const closed: string[] = [];
        /** Re-wraps grants to the new key; one wrapped to a key that no longer exists is closed, never fatal. */
        const rewrap = async (grants: Awaited<ReturnType<typeof deps.accessRequests.approvedGrantsOf>>) => {
          for (const grant of grants) {
            if (!grant.wrappedSymmetricKey) continue;
            let dek: Buffer;
            try {
              if (grant.consultantKeyFingerprint !== from.fingerprint) throw new DecryptionFailedError();
              dek = await unwrapGrantDek(privateKeyDer, grant.wrappedSymmetricKey, grant);
            } catch (error) {
              if (!(error instanceof DecryptionFailedError)) throw error;
              closed.push(grant.id);
              continue;
            }
            try {
              rewrapped.push({ id: grant.id, wrappedSymmetricKey: await wrapGrantDek(keyPair.publicKeyPem, dek, grant) });
            } finally {
              dek.fill(0);
            }
          }
        };
        await rewrap(await deps.accessRequests.approvedGrantsOf(actor.id));
        const protectedKey = await kdfLimiter.run(() =>
          protectPrivateKey(keyPair.privateKeyDer, body.password, { userId: actor.id, fingerprint: keyPair.fingerprint }, {
            iterations: deps.kdf.pbkdf2Iterations,
          }),
        );
        keyPair.privateKeyDer.fill(0);
        const next: NewPrivateKeyRecord = {
          userId: actor.id,
          ...protectedKey,
          algorithm: keyPair.algorithm,
          fingerprint: keyPair.fingerprint,
          previous: from,
        };
        if (!(await keyStore.replace(actor.id, record, next))) {
          throw conflict('The key pair changed while rotating; try again.');
        }
        const keyGeneratedAt = new Date();
        try {
          // Approvals may land while the new key is made: each round re-wraps those too.
          for (let round = 0; ; round++) {
            const outcome = await deps.keyRotation.apply(actor.id, {
              fromFingerprint,
              publicKeyPem: keyPair.publicKeyPem,
              publicKeyFingerprint: keyPair.fingerprint,
              keyAlgorithm: keyPair.algorithm,
              keyGeneratedAt,
              grants: rewrapped,
              closed,
            });
            if (outcome.applied) break;
            if (outcome.keyChanged || round >= 4) throw conflict('The key pair changed while rotating; try again.');
            await rewrap(await deps.accessRequests.approvedGrantsOf(actor.id, outcome.unhandledGrantIds));
          }
        } catch (error) {
          await keyStore.replace(actor.id, next, keyFieldsOf(record)).catch(() => undefined);
          throw error;
        }
        // Under PostgreSQL's read committed, an approval can commit after the rotation's
        // own check and still see the old key: once the new key is committed, any grant
        // left on the old one is moved here, while the old private key is at hand
        // (compare-and-set on the fingerprint, as the approval itself does).
        for (const grant of await deps.accessRequests.approvedGrantsOf(actor.id)) {
          if (grant.consultantKeyFingerprint !== from.fingerprint || !grant.wrappedSymmetricKey) continue;
          const dek = await unwrapGrantDek(privateKeyDer, grant.wrappedSymmetricKey, grant).catch(() => null);
          if (!dek) continue; // not openable with the old key either: left for the owner to revoke
          try {
            const wrappedSymmetricKey = await wrapGrantDek(keyPair.publicKeyPem, dek, grant);
            if (await deps.accessRequests.rewrap(grant.id, from.fingerprint, { wrappedSymmetricKey, consultantKeyFingerprint: keyPair.fingerprint })) {
              rewrapped.push({ id: grant.id, wrappedSymmetricKey });
            }
          } finally {
            dek.fill(0);
          }
        }
        // Committed, and nothing is left on the old key: it goes (compare-and-set on the new
        // version, so a password change meanwhile keeps both slots re-encrypted). A crash
        // before this leaves the old key in the slot until the next rotation replaces it.
        await keyStore.replace(actor.id, next, { ...next, previous: null }).catch(() => undefined);
        for (const grant of rewrapped) {
          await audit.record({
            operation: 'key_wrapped',
            success: true,
            userId: actor.id,
            ipAddress: actor.ip,
            details: { requestId: grant.id, wrappedBy: 'rsa-oaep-sha256', fingerprint: keyPair.fingerprint, reason: 'keypair_rotated' },
          });
        }
        for (const id of closed) {
          await audit.record({
            operation: 'access_revoked',
            success: true,
            userId: actor.id,
            ipAddress: actor.ip,
            details: { requestId: id, keyDeleted: true, reason: 'wrapped_to_unavailable_key' },
          });
        }
        await audit.record({
          operation: 'keypair_rotated',
          success: true,
          userId: actor.id,
          ipAddress: actor.ip,
          details: { from: from.fingerprint, to: keyPair.fingerprint, algorithm: keyPair.algorithm, rewrappedGrants: rewrapped.length, closedGrants: closed.length },
        });
        return { fingerprint: keyPair.fingerprint, keyGeneratedAt: keyGeneratedAt.toISOString(), rewrappedGrants: rewrapped.length };
      } finally {
        privateKeyDer.fill(0);
      }
    },

    /** Re-encrypts the private key under the new password and ends every other session. */
    async changePassword(actor: Actor, body: ChangePasswordBody): Promise<void> {
      /**
       * The key store is written first, then the database. A crash in between leaves the
       * private key under the new password while sign-in still takes the old one. The
       * caller has just proven the old (database) password, so a key that opens with the
       * new one means this very change is being retried: answered with null, to finish it.
       */
      const unlockForChange = async (who: Actor, change: ChangePasswordBody): Promise<Buffer | null> => {
        try {
          return (await unlock(who, change.currentPassword)).privateKeyDer;
        } catch (error) {
          if (!(error instanceof AppError) || error.code !== 'WRONG_PASSWORD') throw error;
          const healed = await unlock(who, change.newPassword).catch(() => null);
          if (!healed) throw error;
          healed.privateKeyDer.fill(0);
          return null;
        }
      };
      const user = await users.findById(actor.id);
      if (!user) throw notFound('User');
      const ok = await deps.passwordAttempts.check(actor.id, actor.ip, () =>
        kdfLimiter.run(() => verifyPassword(body.currentPassword, user.passwordHash)),
      );
      if (!ok) {
        await audit.record({ operation: 'password_changed', success: false, userId: actor.id, ipAddress: actor.ip, details: { reason: 'wrong_password' } });
        throw wrongPassword();
      }
      let record = await keyStore.get(actor.id);
      let next: NewPrivateKeyRecord | null = null;
      const privateKeyDer = record ? await unlockForChange(actor, body) : null;
      // Null: an earlier run of this same change stopped after the key store was written;
      // the key already opens with the new password and only the hash is left to write.
      const resumed = record !== null && !privateKeyDer;
      if (resumed) record = null;
      if (record && privateKeyDer) {
        const reencrypt = (der: Buffer, fingerprint: string) =>
          kdfLimiter.run(() =>
            protectPrivateKey(der, body.newPassword, { userId: actor.id, fingerprint }, { iterations: deps.kdf.pbkdf2Iterations }),
          );
        try {
          const protectedKey = await reencrypt(privateKeyDer, record.fingerprint);
          // A rotation between its two writes (or cut short there) still needs its
          // previous key: it moves to the new password with the current one.
          let previous: KeyMaterial | null = null;
          if (record.previous) {
            const old = await unlock(actor, body.currentPassword, { fingerprint: record.previous.fingerprint }).catch(() => null);
            if (old && old.key.fingerprint === record.previous.fingerprint) {
              try {
                previous = { ...record.previous, ...(await reencrypt(old.privateKeyDer, record.previous.fingerprint)) };
              } finally {
                old.privateKeyDer.fill(0);
              }
            } else {
              old?.privateKeyDer.fill(0);
            }
          }
          next = { ...keyFieldsOf(record), ...protectedKey, previous };
        } finally {
          privateKeyDer.fill(0);
        }
      }
      const passwordHash = await kdfLimiter.run(() => hashPassword(body.newPassword, deps.kdf.scrypt));
      if (record && next && !(await keyStore.replace(actor.id, record, next))) {
        throw conflict('The key pair changed while changing the password; try again.');
      }
      try {
        await deps.keyRotation.changePassword(actor.id, passwordHash);
      } catch (error) {
        if (record && next) await keyStore.replace(actor.id, next, keyFieldsOf(record)).catch(() => undefined);
        throw error;
      }
      await deps.refreshTokens.revokeAllForUser(actor.id, new Date(), actor.sessionFamily);
      await audit.record({ operation: 'password_changed', success: true, userId: actor.id, ipAddress: actor.ip, details: { privateKeyReencrypted: record !== null || resumed, ...(resumed ? { resumed: true } : {}) } });
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;
