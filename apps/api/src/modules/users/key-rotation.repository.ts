import type { PrismaClient } from '../../db/client.ts';

/** Multi-table writes of key management, each in one transaction. */
export function createKeyRotationRepository(prisma: PrismaClient) {
  return {
    apply: (
      userId: string,
      data: {
        publicKeyPem: string;
        publicKeyFingerprint: string;
        keyAlgorithm: string;
        keyGeneratedAt: Date;
        grants: Array<{ id: string; wrappedSymmetricKey: Buffer }>;
      },
    ) =>
      prisma.$transaction(async (tx) => {
        await tx.user.update({
          where: { id: userId },
          data: {
            publicKeyPem: data.publicKeyPem,
            publicKeyFingerprint: data.publicKeyFingerprint,
            keyAlgorithm: data.keyAlgorithm,
            keyGeneratedAt: data.keyGeneratedAt,
          },
        });
        for (const grant of data.grants) {
          // Only grants still approved: one revoked meanwhile must stay without a key.
          await tx.accessRequest.updateMany({
            where: { id: grant.id, status: 'approved', wrappedSymmetricKey: { not: null } },
            data: { wrappedSymmetricKey: new Uint8Array(grant.wrappedSymmetricKey), consultantKeyFingerprint: data.publicKeyFingerprint },
          });
        }
      }),

    /** New password hash, and every access token of the user ends (token version). */
    changePassword: (userId: string, passwordHash: string) =>
      prisma.user.update({ where: { id: userId }, data: { passwordHash, tokenVersion: { increment: 1 } }, select: { id: true } }),
  };
}
export type KeyRotationRepository = ReturnType<typeof createKeyRotationRepository>;
