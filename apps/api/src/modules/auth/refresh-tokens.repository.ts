import type { PrismaClient } from '../../db/client.ts';

export function createRefreshTokensRepository(prisma: PrismaClient) {
  return {
    create: (data: { id: string; userId: string; familyId: string; tokenHash: string; expiresAt: Date }) =>
      prisma.refreshToken.create({ data, select: { id: true } }),

    findByHash: (tokenHash: string) =>
      prisma.refreshToken.findUnique({
        where: { tokenHash },
        select: { id: true, userId: true, familyId: true, expiresAt: true, usedAt: true, revokedAt: true },
      }),

    /**
     * Marks a token used, only if it still is unused and unrevoked. Returns false when
     * another request got there first: that is a reuse, and the caller revokes the family.
     */
    async consume(id: string, now: Date): Promise<boolean> {
      const result = await prisma.refreshToken.updateMany({
        where: { id, usedAt: null, revokedAt: null },
        data: { usedAt: now },
      });
      return result.count === 1;
    },

    /** A session is live while one of its refresh tokens is neither revoked nor expired. */
    isFamilyLive: async (familyId: string, now: Date) =>
      (await prisma.refreshToken.count({ where: { familyId, revokedAt: null, expiresAt: { gt: now } } })) > 0,

    linkReplacement: (id: string, replacedById: string) =>
      prisma.refreshToken.update({ where: { id }, data: { replacedById }, select: { id: true } }),

    revokeFamily: (familyId: string, now: Date) =>
      prisma.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } }),

    revokeAllForUser: (userId: string, now: Date, exceptFamily?: string | null) =>
      prisma.refreshToken.updateMany({
        where: { userId, revokedAt: null, ...(exceptFamily ? { familyId: { not: exceptFamily } } : {}) },
        data: { revokedAt: now },
      }),
  };
}
export type RefreshTokensRepository = ReturnType<typeof createRefreshTokensRepository>;
