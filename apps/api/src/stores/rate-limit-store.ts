import type { PrismaClient } from '../db/client.ts';

/**
 * @fastify/rate-limit store on the app database, so every replica shares one budget
 * per client (an in-memory store would give each replica its own). A counted request
 * in a live window is one atomic increment; an ended window is restarted or created.
 */
export function createDbRateLimitStore(prisma: PrismaClient) {
  let calls = 0;

  async function increment(key: string, windowMs: number): Promise<{ current: number; ttl: number }> {
    const now = Date.now();
    const at = BigInt(now);
    // Query-builder calls only, so the statements are the same on every provider.
    for (let round = 0; ; round++) {
      // A live window: one atomic increment (an UPDATE that also returns the row).
      const live = await prisma.rateLimit
        .update({ where: { key, resetAt: { gt: at } }, data: { count: { increment: 1 } }, select: { count: true, resetAt: true } })
        .catch((error: unknown) => {
          if ((error as { code?: unknown }).code === 'P2025') return null;
          throw error;
        });
      if (live) return { current: live.count, ttl: Math.max(0, Number(live.resetAt) - now) };
      // No row, or its window is over: this request starts the next window.
      const resetAt = BigInt(now + windowMs);
      const restarted = await prisma.rateLimit.updateMany({ where: { key, resetAt: { lte: at } }, data: { count: 1, resetAt } });
      if (restarted.count === 0) {
        try {
          await prisma.rateLimit.create({ data: { key, count: 1, resetAt } });
        } catch (error) {
          // Another request created the window first: count against that one.
          if (round < 8 && (error as { code?: unknown }).code === 'P2002') continue;
          throw error;
        }
      }
      // Now and then, drop windows that ended long ago so the table stays small.
      if (++calls % 500 === 0) await prisma.rateLimit.deleteMany({ where: { resetAt: { lt: BigInt(now - windowMs) } } });
      return { current: 1, ttl: windowMs };
    }
  }

  class DbRateLimitStore {
    // The plugin constructs the store with its own options, which this store does not need.
    constructor(
      _options: object = {},
      private readonly prefix = '',
    ) {}
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      increment(`${this.prefix}${key}`, timeWindow).then(
        (result) => callback(null, result),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }
    child(routeOptions: { path?: string; url?: string; method?: string | string[] }) {
      const route = `${String(routeOptions.method ?? '')} ${routeOptions.path ?? routeOptions.url ?? ''}`;
      return new DbRateLimitStore({}, `${route}|`);
    }
  }
  return DbRateLimitStore;
}
