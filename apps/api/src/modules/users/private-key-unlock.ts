import { WrongPasswordError, unprotectPrivateKey } from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { fail } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import type { KeyStore, PrivateKeyRecord } from '../../stores/keystore/index.ts';
import type { AuditDetails } from '../audit/audit.operations.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';

export interface UnlockedPrivateKey {
  record: PrivateKeyRecord;
  /** PKCS#8 DER; the caller zeroes it when done. */
  privateKeyDer: Buffer;
}

export type UnlockPrivateKey = (actor: Actor, password: string, details: AuditDetails) => Promise<UnlockedPrivateKey>;

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
  return async (actor, password, details) => {
    const record = await keyStore.get(actor.id);
    if (!record) throw privateKeyMissing();
    // The password check spends from the account's one attempt budget, like a login:
    // a stolen access token does not buy unlimited guesses.
    let unlocked: Buffer | null = null;
    try {
      const ok = await deps.passwordAttempts.check(actor.id, actor.ip, async () => {
        try {
          unlocked = await kdfLimiter.run(() => unprotectPrivateKey(record, password, { userId: actor.id, fingerprint: record.fingerprint }));
          return true;
        } catch (error) {
          if (error instanceof WrongPasswordError) return false;
          throw error;
        }
      });
      if (!ok) throw fail('WRONG_PASSWORD', 'The password is not correct; nothing was changed.');
    } catch (error) {
      await audit.record({ operation: 'private_key_decrypted', success: false, userId: actor.id, ipAddress: actor.ip, details });
      throw error;
    }
    const privateKeyDer: Buffer = unlocked ?? Buffer.alloc(0);
    try {
      await keyStore.recordAccess(actor.id);
      await audit.record({ operation: 'private_key_decrypted', success: true, userId: actor.id, ipAddress: actor.ip, details });
    } catch (error) {
      privateKeyDer.fill(0);
      throw error;
    }
    return { record, privateKeyDer };
  };
}
