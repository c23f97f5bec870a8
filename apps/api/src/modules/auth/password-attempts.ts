import { AppError, fail } from '../../lib/errors.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import { usernameKeyOf, type UsersRepository } from '../users/users.repository.ts';
import type { SignInThrottlePolicy, SignInThrottleRepository } from './sign-in-throttle.repository.ts';
import type { UnknownUserLockoutRepository } from './unknown-user-lockout.repository.ts';

export const LOCKOUT_POLICY = { threshold: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 } as const;

/**
 * Progressive delay per client address and username (docs/api.md, "Sign-in throttle").
 * The first 10 failures run freely (the account budget bounds them); after that each
 * failure doubles the wait, 2 s up to 15 min, so one address that locked an account
 * cannot lock it again when the lock ends: it gets at most 8 guesses into the next
 * 15 minutes, the budget needs 10.
 */
export const SIGN_IN_THROTTLE: SignInThrottlePolicy = {
  freeFailures: LOCKOUT_POLICY.threshold,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  forgetMs: 24 * 60 * 60_000,
};

export function rateLimitedError(waitMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return fail('RATE_LIMITED', `Too many failed sign-in attempts from this address. Try again in ${seconds} second(s).`, {
    'retry-after': String(seconds),
  });
}

export function lockedError(until: Date, now: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return fail('ACCOUNT_LOCKED', `Too many failed sign-in attempts. Try again in ${Math.ceil(seconds / 60)} minute(s).`, {
    'retry-after': String(seconds),
  });
}

export interface PasswordAttemptsDeps {
  users: Pick<UsersRepository, 'takeAttemptSlot' | 'settleAttempt'>;
  unknownUsers: UnknownUserLockoutRepository;
  signInThrottle: SignInThrottleRepository;
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
     * Runs one sign-in under the throttle of its client address and (case-folded)
     * username: a client still waiting gets 429 RATE_LIMITED before anything is looked
     * up, so known and unknown names answer alike. The slot is taken before the slow
     * hash; a wrong password or unknown name keeps it, the right password ends the
     * streak, and an attempt that checked nothing (a locked account, an outage) gives it back.
     */
    async throttleSignIn<T>(ip: string, username: string, signIn: () => Promise<T>): Promise<T> {
      const key = `signin|${ip}|${usernameKeyOf(username)}`;
      const taken = await deps.signInThrottle.take(key, new Date(), SIGN_IN_THROTTLE);
      if ('waitMs' in taken) {
        // A locked account (or name) keeps its contract answer, ACCOUNT_LOCKED; the
        // throttle speaks only for names that are not locked.
        const now = new Date();
        const locked = await deps.unknownUsers.lockedUntil(usernameKeyOf(username), now, LOCKOUT_POLICY.threshold);
        throw locked ? lockedError(locked, now) : rateLimitedError(taken.waitMs);
      }
      try {
        const result = await signIn();
        await deps.signInThrottle.clear(key);
        return result;
      } catch (error) {
        const code = error instanceof AppError ? error.code : null;
        // A disabled account with the right password: the password was right.
        if (code === 'ACCOUNT_DISABLED') await deps.signInThrottle.clear(key);
        else if (code !== 'INVALID_CREDENTIALS') await deps.signInThrottle.giveBack(taken.slot);
        throw error;
      }
    },

    /**
     * Runs `verify` (true: the password was right) inside one slot of the account's
     * budget; throws ACCOUNT_LOCKED without running it when no slot is left. With
     * `keepStreak` a success gives its slot back without clearing earlier failures (a
     * password that a second factor must still follow).
     */
    async check(userId: string, ip: string, verify: () => Promise<boolean>, options: { keepStreak?: boolean } = {}): Promise<boolean> {
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
      const outcome = ok ? (options.keepStreak ? 'not_checked' : 'succeeded') : 'failed';
      const settled = await users.settleAttempt(userId, taken.slot, outcome, new Date(), LOCKOUT_POLICY);
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
      deps.onFailed?.();
    },
  };
}
export type PasswordAttempts = ReturnType<typeof createPasswordAttempts>;
