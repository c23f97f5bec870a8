import type { PrismaClient } from '../db/client.ts';

/**
 * @fastify/rate-limit store on the app database, so every replica shares one budget
 * per client (an in-memory store would give each replica its own). One atomic
 * upsert per counted request; expired windows restart in the same statement.
 */
export function createDbRateLimitStore(prisma: PrismaClient) {
  let calls = 0;

  async function increment(key: string, windowMs: number): Promise<{ current: number; ttl: number }> {
    const now = Date.now();
    // Standard SQL both engines run as one statement (INSERT ... ON CONFLICT ... RETURNING,
    // SQLite >= 3.35, PostgreSQL >= 9.5); Prisma numbers the placeholders per engine.
    const rows = await prisma.$queryRaw<Array<{ count: number | bigint; reset_at: number | bigint }>>`
      INSERT INTO rate_limits (key, count, reset_at) VALUES (${key}, 1, ${now + windowMs})
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN rate_limits.reset_at <= ${now} THEN 1 ELSE rate_limits.count + 1 END,
         reset_at = CASE WHEN rate_limits.reset_at <= ${now} THEN excluded.reset_at ELSE rate_limits.reset_at END
       RETURNING count, reset_at`;
    // Now and then, drop windows that ended long ago so the table stays small.
    if (++calls % 500 === 0) {
      await prisma.$executeRaw`DELETE FROM rate_limits WHERE reset_at < ${now - windowMs}`;
    }
    const row = rows[0];
    if (!row) throw new Error('rate limit upsert returned no row');
    return { current: Number(row.count), ttl: Math.max(0, Number(row.reset_at) - now) };
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
