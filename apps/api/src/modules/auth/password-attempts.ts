import { fail, type AppError } from '../../lib/errors.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import { usernameKeyOf, type UsersRepository } from '../users/users.repository.ts';
import type { UnknownUserLockoutRepository } from './unknown-user-lockout.repository.ts';

export const LOCKOUT_POLICY = { threshold: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 } as const;

export function lockedError(until: Date, now: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return fail('ACCOUNT_LOCKED', `Too many failed sign-in attempts. Try again in ${Math.ceil(seconds / 60)} minute(s).`, {
    'retry-after': String(seconds),
  });
}

export interface PasswordAttemptsDeps {
  users: Pick<UsersRepository, 'takeAttemptSlot' | 'settleAttempt'>;
  unknownUsers: UnknownUserLockoutRepository;
  audit: AuditLog;
  onFailed?: () => void;
}

/**
 * The one budget of password checks per account: login, download, key rotation and
 * password change all spend from it (10 failures in 15 minutes lock the account for 15).
 * The slot is taken before the slow hash, so parallel guesses cannot outrun the lock.
 */
export function createPasswordAttempts(deps: PasswordAttemptsDeps) {
  const { users, audit } = deps;
  return {
    /**
     * Runs `verify` (true: the password was right) inside one slot of the account's
     * budget; throws ACCOUNT_LOCKED without running it when no slot is left.
     */
    async check(userId: string, ip: string, verify: () => Promise<boolean>): Promise<boolean> {
      const now = new Date();
      const taken = await users.takeAttemptSlot(userId, now, LOCKOUT_POLICY);
      if ('lockedUntil' in taken) throw lockedError(taken.lockedUntil, now);
      let ok: boolean;
      try {
        ok = await verify();
      } catch (error) {
        await users.settleAttempt(userId, taken.slot, 'not_checked', new Date(), LOCKOUT_POLICY);
        throw error;
      }
      const settled = await users.settleAttempt(userId, taken.slot, ok ? 'succeeded' : 'failed', new Date(), LOCKOUT_POLICY);
      if (!ok) deps.onFailed?.();
      if (settled.newlyLocked) {
        await audit.record({
          operation: 'account_locked',
          success: true,
          userId,
          ipAddress: ip,
          details: { until: settled.newlyLocked.toISOString(), failures: LOCKOUT_POLICY.threshold },
        });
      }
      return ok;
    },

    /**
     * A sign-in for a username without an account: counted exactly like an account's
     * failures, so the 11th answers ACCOUNT_LOCKED as it would for a real one. Throws
     * that answer, or returns so the caller spends the same hashing time and says 401.
     */
    async countUnknown(username: string): Promise<void> {
      const now = new Date();
      const { count, until } = await deps.unknownUsers.countFailure(usernameKeyOf(username), now, LOCKOUT_POLICY);
      if (count > LOCKOUT_POLICY.threshold) throw lockedError(until, now);
    },
  };
}
export type PasswordAttempts = ReturnType<typeof createPasswordAttempts>;
