import { Prisma, type PrismaClient } from '../../db/client.ts';
import { readRows, toBoolean } from '../../db/direct-read.ts';

export interface PasskeyRow {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string;
  name: string;
  createdAt: Date;
}

/**
 * What "has a second factor" means, as one SQL expression for any user-id expression
 * (a bound value, or a column of an outer query such as the per-request session check):
 * a confirmed authenticator app or at least one passkey.
 */
export const secondFactorExists = (userId: Prisma.Sql) => Prisma.sql`(
  EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = ${userId} AND m.confirmed_at IS NOT NULL)
  OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = ${userId}))`;

/**
 * Second-factor rows. Every "use once" rule is one compare-and-set statement: a TOTP
 * step, a recovery code, a pending sign-in and a registration challenge each change
 * only if they are still unused, so two racing requests cannot both pass.
 */
export function createMfaRepository(prisma: PrismaClient) {
  return {
    findTotp: (userId: string) => prisma.mfaTotp.findUnique({ where: { userId } }),

    /** A new pending secret replaces a pending one; a confirmed one is never overwritten here. */
    async savePendingTotp(userId: string, wrappedSecret: Buffer, kekId: string): Promise<boolean> {
      const data = { wrappedSecret: new Uint8Array(wrappedSecret), kekId, confirmedAt: null, lastUsedStep: null };
      const replaced = await prisma.mfaTotp.updateMany({ where: { userId, confirmedAt: null }, data });
      if (replaced.count === 1) return true;
      const existing = await prisma.mfaTotp.findUnique({ where: { userId }, select: { confirmedAt: true } });
      if (existing) return false;
      await prisma.mfaTotp.create({ data: { userId, ...data } });
      return true;
    },

    /** Confirms the pending secret with the step its first code was for, and sets fresh recovery codes. */
    confirmTotp: (userId: string, step: number, codeHashes: string[], now: Date) =>
      prisma.$transaction(async (tx) => {
        const confirmed = await tx.mfaTotp.updateMany({ where: { userId, confirmedAt: null }, data: { confirmedAt: now, lastUsedStep: step } });
        if (confirmed.count !== 1) return false;
        await tx.recoveryCode.deleteMany({ where: { userId } });
        await tx.recoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ userId, codeHash, createdAt: now })) });
        return true;
      }),

    /** Accepts a step only if it is later than the last accepted one (a code works once). */
    async useTotpStep(userId: string, step: number): Promise<boolean> {
      const used = await prisma.mfaTotp.updateMany({
        where: { userId, confirmedAt: { not: null }, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
        data: { lastUsedStep: step },
      });
      return used.count === 1;
    },

    deleteTotp: (userId: string) => prisma.mfaTotp.deleteMany({ where: { userId } }),

    recoveryCodesLeft: (userId: string) => prisma.recoveryCode.count({ where: { userId, usedAt: null } }),

    async useRecoveryCode(userId: string, codeHash: string, now: Date): Promise<boolean> {
      const used = await prisma.recoveryCode.updateMany({ where: { userId, codeHash, usedAt: null }, data: { usedAt: now } });
      return used.count === 1;
    },

    /** Fresh recovery codes for an account that has a passkey but no TOTP yet (first factor enrolled). */
    async setRecoveryCodesIfNone(userId: string, codeHashes: string[], now: Date): Promise<boolean> {
      return prisma.$transaction(async (tx) => {
        if ((await tx.recoveryCode.count({ where: { userId } })) > 0) return false;
        await tx.recoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ userId, codeHash, createdAt: now })) });
        return true;
      });
    },

    passkeys: (userId: string): Promise<PasskeyRow[]> => prisma.webAuthnCredential.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),

    findPasskeyByCredentialId: (credentialId: string): Promise<PasskeyRow | null> => prisma.webAuthnCredential.findUnique({ where: { credentialId } }),

    addPasskey: (input: { userId: string; credentialId: string; publicKey: Uint8Array; signCount: number; transports: string; name: string }) =>
      prisma.webAuthnCredential.create({ data: { ...input, publicKey: new Uint8Array(input.publicKey) } }),

    /** The signature counter moves forward only (a cloned authenticator would replay an old one). */
    async advancePasskey(id: string, from: number, to: number, now: Date): Promise<boolean> {
      const moved = await prisma.webAuthnCredential.updateMany({
        where: { id, signCount: from },
        data: { signCount: to, lastUsedAt: now },
      });
      return moved.count === 1;
    },

    /** Removes one of the user's passkeys; false if it is not theirs (or gone). */
    async deletePasskey(userId: string, id: string): Promise<boolean> {
      const removed = await prisma.webAuthnCredential.deleteMany({ where: { id, userId } });
      return removed.count === 1;
    },

    /** Whether the account has a confirmed TOTP or a passkey (secondFactorExists). */
    async hasFactor(userId: string): Promise<boolean> {
      const [has] = await readRows(prisma, Prisma.sql`SELECT ${secondFactorExists(Prisma.sql`${userId}`)} AS has`, (values) => toBoolean(values[0] as number | bigint | boolean));
      return has === true;
    },

    createChallenge: (input: { userId: string; purpose: 'sign_in' | 'passkey_registration'; tokenHash: string | null; tokenVersion: number; challenge: string | null; expiresAt: Date }) =>
      prisma.mfaChallenge.create({ data: input }),

    findSignIn: (tokenHash: string) => prisma.mfaChallenge.findUnique({ where: { tokenHash } }),

    async setChallenge(id: string, challenge: string, now: Date): Promise<boolean> {
      const set = await prisma.mfaChallenge.updateMany({ where: { id, usedAt: null, expiresAt: { gt: now } }, data: { challenge } });
      return set.count === 1;
    },

    /** Ends a pending sign-in or registration: true for exactly one caller. */
    async consumeChallenge(id: string, now: Date): Promise<boolean> {
      const used = await prisma.mfaChallenge.updateMany({ where: { id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
      return used.count === 1;
    },

    /** The user's newest live passkey registration challenge. */
    latestRegistration: (userId: string, now: Date) =>
      prisma.mfaChallenge.findFirst({
        where: { userId, purpose: 'passkey_registration', usedAt: null, expiresAt: { gt: now } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),

    /** Expired or used challenges of the user: kept no longer than needed. */
    pruneChallenges: (userId: string, now: Date) =>
      prisma.mfaChallenge.deleteMany({ where: { userId, OR: [{ usedAt: { not: null } }, { expiresAt: { lte: now } }] } }),

    /** Every second factor of the account (admin reset, erasure). */
    removeAll: (userId: string) =>
      prisma.$transaction(async (tx) => {
        const totp = await tx.mfaTotp.deleteMany({ where: { userId } });
        const passkeys = await tx.webAuthnCredential.deleteMany({ where: { userId } });
        const codes = await tx.recoveryCode.deleteMany({ where: { userId } });
        await tx.mfaChallenge.deleteMany({ where: { userId } });
        return { totpRemoved: totp.count > 0, passkeysRemoved: passkeys.count, recoveryCodesRemoved: codes.count };
      }),
  };
}
export type MfaRepository = ReturnType<typeof createMfaRepository>;
