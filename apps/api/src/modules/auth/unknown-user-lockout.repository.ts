import type { PrismaClient } from '../../db/client.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';

/**
 * Failed sign-ins for usernames that have no account, counted like an account's so
 * that the lockout answer cannot tell the two apart. Kept in the shared rate_limits
 * table (one row per folded username), so it holds across restarts and replicas.
 * Every attempt on an unknown name is a failure, so counting it up front is the slot.
 * Query-builder calls only, so the statements are the same on every provider.
 */
export function createUnknownUserLockoutRepository(prisma: PrismaClient) {
  return {
    /** When the lock of an account or unknown name ends, if it is locked now. */
    async lockedUntil(usernameKey: string, now: Date, threshold: number): Promise<Date | null> {
      const account = await prisma.user.findUnique({ where: { usernameKey }, select: { lockedUntil: true } });
      if (account) return account.lockedUntil && account.lockedUntil > now ? account.lockedUntil : null;
      const row = await prisma.rateLimit.findUnique({ where: { key: `lockout|${usernameKey}` }, select: { count: true, resetAt: true } });
      return row && row.count >= threshold && Number(row.resetAt) > now.getTime() ? new Date(Number(row.resetAt)) : null;
    },

    /** Counts one failure; returns the count in the window and when the window or lock ends. */
    async countFailure(
      usernameKey: string,
      now: Date,
      policy: { windowMs: number; threshold: number; lockMs: number },
    ): Promise<{ count: number; until: Date }> {
      const key = `lockout|${usernameKey}`;
      const at = BigInt(now.getTime());
      for (let round = 0; ; round++) {
        // A live window: one atomic increment (an UPDATE that also returns the row).
        const live = await prisma.rateLimit
          .update({ where: { key, resetAt: { gt: at } }, data: { count: { increment: 1 } }, select: { count: true, resetAt: true } })
          .catch((error: unknown) => {
            if ((error as { code?: unknown }).code === 'P2025') return null;
            throw error;
          });
        if (live) {
          if (live.count !== policy.threshold) return { count: live.count, until: new Date(Number(live.resetAt)) };
          // The failure that fills the budget turns the window into the lock.
          const until = at + BigInt(policy.lockMs);
          await prisma.rateLimit.updateMany({ where: { key, resetAt: live.resetAt }, data: { resetAt: until } });
          return { count: live.count, until: new Date(Number(until)) };
        }
        // No row, or its window is over: a new window starts with this failure.
        const resetAt = at + BigInt(policy.windowMs);
        const restarted = await prisma.rateLimit.updateMany({ where: { key, resetAt: { lte: at } }, data: { count: 1, resetAt } });
        if (restarted.count === 1) return { count: 1, until: new Date(Number(resetAt)) };
        try {
          await prisma.rateLimit.create({ data: { key, count: 1, resetAt } });
          return { count: 1, until: new Date(Number(resetAt)) };
        } catch (error) {
          // Another attempt created or restarted the row first: count against that one.
          if (round < 8 && isUniqueViolation(error)) continue;
          throw error;
        }
      }
    },
  };
}
export type UnknownUserLockoutRepository = ReturnType<typeof createUnknownUserLockoutRepository>;
