import type { PrismaClient } from '../../db/client.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';

export interface SignInThrottlePolicy {
  /** Failures from one client for one username that run without any wait. */
  freeFailures: number;
  /** The wait after the first failure past the free ones; it doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A streak is forgotten this long after its last failure. */
  forgetMs: number;
}

/** What a taken slot was and became, so an attempt that checked nothing can give it back. */
export interface ThrottleSlot {
  key: string;
  before: { count: number; resetAt: bigint } | null;
  after: { count: number; resetAt: bigint };
}

/** How long a client must wait after `failures` failures in its streak. */
export function delayAfter(failures: number, policy: SignInThrottlePolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - policy.freeFailures));
}

// Compare-and-set rounds before a contended slot is answered as "wait" rather than retried.
const MAX_ROUNDS = 8;

/**
 * Failure streaks of one client address for one username, in the shared rate_limits
 * table (so every replica counts the same streak). A row holds the streak's failure
 * count and, in `reset_at` as everywhere in that table, when the row expires: the last
 * failure plus `forgetMs`. The wait before the next attempt follows from the two.
 *
 * Only Prisma query-builder calls, so the statements are the same on every provider;
 * the slot is taken with a compare-and-set on (count, reset_at), so parallel attempts
 * each get their own slot or a wait, never a free pass.
 */
export function createSignInThrottleRepository(prisma: PrismaClient) {
  return {
    /** Takes the next attempt slot of `key`, or says how long to wait for it. */
    async take(key: string, now: Date, policy: SignInThrottlePolicy): Promise<{ slot: ThrottleSlot } | { waitMs: number }> {
      const at = now.getTime();
      const expiresAt = BigInt(at + policy.forgetMs);
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const row = await prisma.rateLimit.findUnique({ where: { key }, select: { count: true, resetAt: true } });
        if (row === null) {
          try {
            await prisma.rateLimit.create({ data: { key, count: 1, resetAt: expiresAt } });
            return { slot: { key, before: null, after: { count: 1, resetAt: expiresAt } } };
          } catch (error) {
            if (isUniqueViolation(error)) continue;
            throw error;
          }
        }
        const forgotten = row.resetAt <= BigInt(at);
        const count = forgotten ? 0 : row.count;
        if (!forgotten) {
          const lastFailureAt = Number(row.resetAt) - policy.forgetMs;
          const allowedAt = lastFailureAt + delayAfter(count, policy);
          if (at < allowedAt) return { waitMs: allowedAt - at };
        }
        const after = { count: count + 1, resetAt: expiresAt };
        const swapped = await prisma.rateLimit.updateMany({ where: { key, count: row.count, resetAt: row.resetAt }, data: after });
        if (swapped.count === 1) return { slot: { key, before: forgotten ? null : row, after } };
      }
      // Another attempt of the same client won every round: it is retrying in parallel.
      return { waitMs: policy.baseDelayMs };
    },

    /** The right password: the streak ends. */
    async clear(key: string): Promise<void> {
      await prisma.rateLimit.deleteMany({ where: { key } });
    },

    /**
     * Nothing was checked (the account was locked, a store was down): the slot goes back,
     * unless a later attempt already built on it (then it stays counted, erring on caution).
     */
    async giveBack(slot: ThrottleSlot): Promise<void> {
      const where = { key: slot.key, count: slot.after.count, resetAt: slot.after.resetAt };
      if (slot.before === null) await prisma.rateLimit.deleteMany({ where });
      else await prisma.rateLimit.updateMany({ where, data: { count: slot.before.count, resetAt: slot.before.resetAt } });
    },
  };
}
export type SignInThrottleRepository = ReturnType<typeof createSignInThrottleRepository>;
