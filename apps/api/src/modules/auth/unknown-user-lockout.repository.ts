import type { PrismaClient } from '../../db/client.ts';

/**
 * Failed sign-ins for usernames that have no account, counted like an account's so
 * that the lockout answer cannot tell the two apart. Kept in the shared rate_limits
 * table (one row per folded username), so it holds across restarts and replicas.
 * Every attempt on an unknown name is a failure, so counting it up front is the slot.
 */
export function createUnknownUserLockoutRepository(prisma: PrismaClient) {
  return {
    /** Counts one failure; returns the count in the window and when the window or lock ends. */
    async countFailure(
      usernameKey: string,
      now: Date,
      policy: { windowMs: number; threshold: number; lockMs: number },
    ): Promise<{ count: number; until: Date }> {
      const at = now.getTime();
      const rows = await prisma.$queryRaw<Array<{ count: number | bigint; reset_at: number | bigint }>>`
        INSERT INTO rate_limits (key, count, reset_at) VALUES (${`lockout|${usernameKey}`}, 1, ${at + policy.windowMs})
         ON CONFLICT(key) DO UPDATE SET
           count = CASE WHEN rate_limits.reset_at <= ${at} THEN 1 ELSE rate_limits.count + 1 END,
           reset_at = CASE
             WHEN rate_limits.reset_at <= ${at} THEN excluded.reset_at
             WHEN rate_limits.count + 1 = ${policy.threshold} THEN ${at + policy.lockMs}
             ELSE rate_limits.reset_at END
         RETURNING count, reset_at`;
      const row = rows[0];
      if (!row) throw new Error('lockout upsert returned no row');
      return { count: Number(row.count), until: new Date(Number(row.reset_at)) };
    },
  };
}
export type UnknownUserLockoutRepository = ReturnType<typeof createUnknownUserLockoutRepository>;
