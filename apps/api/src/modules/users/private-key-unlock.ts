import { WrongPasswordError, unprotectPrivateKey } from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { fail } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import { keyMaterialOf, keySlot, type KeyMaterial, type KeyStore, type PrivateKeyRecord } from '../../stores/keystore/index.ts';
import type { AuditDetails } from '../audit/audit.operations.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';

export interface UnlockedPrivateKey {
  record: PrivateKeyRecord;
  /** The slot that was opened: the current key, or the previous one when asked for by fingerprint. */
  key: KeyMaterial;
  /** PKCS#8 DER; the caller zeroes it when done. */
  privateKeyDer: Buffer;
}

export interface UnlockOptions {
  /**
   * Open the key pair with this fingerprint: the current one, or the previous one a key
   * rotation keeps until its database commit (a grant or the database may still name
   * it). Absent, or naming neither: the current key.
   */
  fingerprint?: string | null;
}

export type UnlockPrivateKey = (actor: Actor, password: string, details: AuditDetails, options?: UnlockOptions) => Promise<UnlockedPrivateKey>;

export const privateKeyMissing = () =>
  fail('PRIVATE_KEY_MISSING', 'Your private key was deleted by an administrator; it cannot be used. Ask for a new key and new grants.');

/**
 * The one place a user's private key is opened with their password: the KDF runs
 * in the bounded pool, the access is counted in the key store, and the attempt is
 * audited as private_key_decrypted whatever its outcome.
 */
export function createPrivateKeyUnlock(deps: {
  keyStore: KeyStore;
  audit: AuditLog;
  kdfLimiter: Limiter;
  passwordAttempts: PasswordAttempts;
}): UnlockPrivateKey {
  const { keyStore, audit, kdfLimiter } = deps;
  return async (actor, password, details, options = {}) => {
    const record = await keyStore.get(actor.id);
    if (!record) throw privateKeyMissing();
    const key = (options.fingerprint ? keySlot(record, options.fingerprint) : null) ?? keyMaterialOf(record);
    // The password check spends from the account's one attempt budget, like a login:
    // a stolen access token does not buy unlimited guesses.
    const unlocked: { key?: Buffer } = {};
    try {
      const ok = await deps.passwordAttempts.check(actor.id, actor.ip, async () => {
        try {
          unlocked.key = await kdfLimiter.run(() => unprotectPrivateKey(key, password, { userId: actor.id, fingerprint: key.fingerprint }));
          return true;
        } catch (error) {
          if (error instanceof WrongPasswordError) return false;
          throw error;
        }
      });
      if (!ok || !unlocked.key) throw fail('WRONG_PASSWORD', 'The password is not correct; nothing was changed.');
    } catch (error) {
      unlocked.key?.fill(0);
      await audit.record({ operation: 'private_key_decrypted', success: false, userId: actor.id, ipAddress: actor.ip, details });
      throw error;
    }
    const privateKeyDer = unlocked.key;
    try {
      await keyStore.recordAccess(actor.id);
      await audit.record({ operation: 'private_key_decrypted', success: true, userId: actor.id, ipAddress: actor.ip, details });
    } catch (error) {
      privateKeyDer.fill(0);
      throw error;
    }
    return { record, key, privateKeyDer };
  };
}
