import type { PrismaClient } from '../../db/client.ts';

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  role: string;
  status: string;
  publicKeyPem: string | null;
  publicKeyFingerprint: string | null;
  keyAlgorithm: string | null;
  keyGeneratedAt: Date | null;
  tokenVersion: number;
  lockedUntil: Date | null;
  createdAt: Date;
}

const userSelect = {
  id: true,
  username: true,
  passwordHash: true,
  role: true,
  status: true,
  publicKeyPem: true,
  publicKeyFingerprint: true,
  keyAlgorithm: true,
  keyGeneratedAt: true,
  tokenVersion: true,
  lockedUntil: true,
  createdAt: true,
} as const;

/** The case-folded form that makes a username unique. */
export const usernameKeyOf = (username: string) => username.toLowerCase();

export function createUsersRepository(prisma: PrismaClient) {
  return {
    findById: (id: string): Promise<UserRow | null> => prisma.user.findUnique({ where: { id }, select: userSelect }),

    /** Usernames are one name whatever their case (ORGA is orga). */
    findByUsername: (username: string): Promise<UserRow | null> =>
      prisma.user.findUnique({ where: { usernameKey: usernameKeyOf(username) }, select: userSelect }),

    /** What the auth hook needs on every request: one indexed lookup. */
    findAuthState: (id: string) =>
      prisma.user.findUnique({ where: { id }, select: { id: true, username: true, role: true, status: true, tokenVersion: true } }),

    create: (data: {
      id: string;
      username: string;
      passwordHash: string;
      role: string;
      publicKeyPem: string;
      publicKeyFingerprint: string;
      keyAlgorithm: string;
      keyGeneratedAt: Date;
    }): Promise<UserRow> => prisma.user.create({ data: { ...data, usernameKey: usernameKeyOf(data.username) }, select: userSelect }),

    /**
     * Counts a failed login inside a sliding window and locks the account once the
     * threshold is reached. Kept in the database so it holds across restarts and replicas.
     */
    async registerFailedLogin(
      id: string,
      now: Date,
      policy: { windowMs: number; threshold: number; lockMs: number },
    ): Promise<{ lockedUntil: Date | null; newlyLocked: boolean }> {
      const windowStart = new Date(now.getTime() - policy.windowMs);
      const restarted = await prisma.user.updateMany({
        where: { id, OR: [{ failedLoginWindowAt: null }, { failedLoginWindowAt: { lt: windowStart } }] },
        data: { failedLoginCount: 1, failedLoginWindowAt: now },
      });
      const row =
        restarted.count === 1
          ? { failedLoginCount: 1 }
          : await prisma.user.update({
              where: { id },
              data: { failedLoginCount: { increment: 1 } },
              select: { failedLoginCount: true },
            });
      if (row.failedLoginCount < policy.threshold) return { lockedUntil: null, newlyLocked: false };
      const lockedUntil = new Date(now.getTime() + policy.lockMs);
      const locked = await prisma.user.updateMany({
        where: { id, OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] },
        data: { lockedUntil, failedLoginCount: 0, failedLoginWindowAt: null },
      });
      return { lockedUntil, newlyLocked: locked.count === 1 };
    },

    clearFailedLogins: (id: string) =>
      prisma.user.updateMany({
        where: { id, OR: [{ failedLoginCount: { gt: 0 } }, { lockedUntil: { not: null } }] },
        data: { failedLoginCount: 0, failedLoginWindowAt: null, lockedUntil: null },
      }),

    updatePasswordHash: (id: string, passwordHash: string) =>
      prisma.user.update({ where: { id }, data: { passwordHash }, select: { id: true } }),

    /** Ends every access token of the user at once (they carry the version). */
    bumpTokenVersion: (id: string) =>
      prisma.user.update({ where: { id }, data: { tokenVersion: { increment: 1 } }, select: { tokenVersion: true } }),

    publicKey: (id: string) =>
      prisma.user.findUnique({
        where: { id },
        select: { id: true, publicKeyPem: true, publicKeyFingerprint: true, keyAlgorithm: true, keyGeneratedAt: true },
      }),
  };
}
export type UsersRepository = ReturnType<typeof createUsersRepository>;
