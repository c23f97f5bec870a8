import type { PrismaClient } from '../../db/client.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';

/**
 * Named leases in the app database: one holder at a time across processes and
 * replicas, taken by insert or by a compare-and-set on an expired lease.
 */
export function createLeasesRepository(prisma: PrismaClient) {
  return {
    async acquire(name: string, holder: string, ttlMs: number, now = new Date()): Promise<boolean> {
      const expiresAt = new Date(now.getTime() + ttlMs);
      try {
        await prisma.lease.create({ data: { name, holder, expiresAt } });
        return true;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const taken = await prisma.lease.updateMany({
        where: { name, OR: [{ expiresAt: { lte: now } }, { holder }] },
        data: { holder, expiresAt },
      });
      return taken.count === 1;
    },

    release: (name: string, holder: string) =>
      prisma.lease.updateMany({ where: { name, holder }, data: { expiresAt: new Date(0) } }),
  };
}
export type LeasesRepository = ReturnType<typeof createLeasesRepository>;
