import type { PrismaClient } from '../../db/client.ts';

export const createHealthRepository = (prisma: PrismaClient) => ({
  ping: async (): Promise<void> => {
    await prisma.$queryRawUnsafe('SELECT 1');
  },
});
