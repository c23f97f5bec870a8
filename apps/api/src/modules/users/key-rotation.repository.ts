import type { PrismaClient } from '../../db/client.ts';

/** Rolls the rotation's transaction back when its view of the grants is out of date. */
class RotationOutdated extends Error {
  constructor(readonly result: RotationOutcome) {
    super('rotation outdated');
  }
}

export type RotationOutcome =
  | { applied: true }
  /** The user's key is no longer the one this rotation started from. */
  | { applied: false; keyChanged: true }
  /** Approved grants appeared that this rotation has not re-wrapped yet. */
  | { applied: false; keyChanged: false; unhandledGrantIds: string[] };

/** Multi-table writes of key management, each in one transaction. */
export function createKeyRotationRepository(prisma: PrismaClient) {
  return {
    /**
     * Swaps the user's public key (compare-and-set on the old fingerprint) and stores the
     * re-wrapped grants, in one transaction. The user row is written first, so from then
     * on no approval can commit between this transaction's check and its writes: either
     * an approval committed before (and is counted as unhandled here) or it commits after
     * and sees the new fingerprint. Grants in `closed` could not be re-wrapped (wrapped to
     * a key that no longer exists): they are revoked with their key destroyed.
     */
    async apply(
      userId: string,
      data: {
        fromFingerprint: string;
        publicKeyPem: string;
        publicKeyFingerprint: string;
        keyAlgorithm: string;
        keyGeneratedAt: Date;
        grants: Array<{ id: string; wrappedSymmetricKey: Buffer }>;
        closed: string[];
      },
    ): Promise<RotationOutcome> {
      try {
        await prisma.$transaction(async (tx) => {
          const swapped = await tx.user.updateMany({
            where: { id: userId, publicKeyFingerprint: data.fromFingerprint },
            data: {
              publicKeyPem: data.publicKeyPem,
              publicKeyFingerprint: data.publicKeyFingerprint,
              keyAlgorithm: data.keyAlgorithm,
              keyGeneratedAt: data.keyGeneratedAt,
            },
          });
          if (swapped.count !== 1) throw new RotationOutdated({ applied: false, keyChanged: true });
          const handled = [...data.grants.map((grant) => grant.id), ...data.closed];
          const unhandled = await tx.accessRequest.findMany({
            where: { consultantId: userId, status: 'approved', wrappedSymmetricKey: { not: null }, id: { notIn: handled } },
            select: { id: true },
          });
          if (unhandled.length > 0) {
            throw new RotationOutdated({ applied: false, keyChanged: false, unhandledGrantIds: unhandled.map((row) => row.id) });
          }
          for (const grant of data.grants) {
            // Only grants still approved: one revoked meanwhile must stay without a key.
            await tx.accessRequest.updateMany({
              where: { id: grant.id, status: 'approved', wrappedSymmetricKey: { not: null } },
              data: { wrappedSymmetricKey: new Uint8Array(grant.wrappedSymmetricKey), consultantKeyFingerprint: data.publicKeyFingerprint },
            });
          }
          if (data.closed.length > 0) {
            await tx.accessRequest.updateMany({
              where: { id: { in: data.closed }, status: 'approved' },
              data: { status: 'revoked', wrappedSymmetricKey: null, openKey: null, processedAt: data.keyGeneratedAt },
            });
          }
        });
        return { applied: true };
      } catch (error) {
        if (error instanceof RotationOutdated) return error.result;
        throw error;
      }
    },

    /** New password hash, and every access token of the user ends (token version). */
    changePassword: (userId: string, passwordHash: string) =>
      prisma.user.update({ where: { id: userId }, data: { passwordHash, tokenVersion: { increment: 1 } }, select: { id: true } }),
  };
}
export type KeyRotationRepository = ReturnType<typeof createKeyRotationRepository>;
