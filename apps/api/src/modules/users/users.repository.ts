import type { PrismaClient } from '../../db/client.ts';
import { likeLiteral } from '../../lib/like.ts';

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

export interface AdminUserRow extends UserRow {
  lastLoginAt: Date | null;
  failedLoginCount: number;
}

const adminUserSelect = { ...userSelect, lastLoginAt: true, failedLoginCount: true } as const;

export function createUsersRepository(prisma: PrismaClient) {
  /** Prisma's `contains` passes _ and % through as wildcards (and `_` is a username character), so this filter is SQL. */
  async function idsWithUsernameContaining(q: string): Promise<string[]> {
    const rows = await prisma.$queryRaw<Array<{ id: string }>>`SELECT id FROM users WHERE username LIKE ${likeLiteral(q)} ESCAPE '\\'`;
    return rows.map((row) => row.id);
  }

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
     * Takes one slot of the account's password-attempt budget before the (slow) check,
     * in single conditional UPDATEs, so parallel guesses cannot all pass a lock that was
     * read before hashing. A window older than `windowMs` restarts at 1. Returns the
     * slot's number, or the lock's end when no slot is left (a lock whose end is not
     * set yet means the last slot's check is still running).
     */
    async takeAttemptSlot(
      id: string,
      now: Date,
      policy: { windowMs: number; threshold: number; lockMs: number },
    ): Promise<{ slot: number } | { lockedUntil: Date }> {
      const windowStart = new Date(now.getTime() - policy.windowMs);
      const unlocked = { OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] };
      const restarted = await prisma.user.updateMany({
        where: { id, AND: [unlocked, { OR: [{ failedLoginWindowAt: null }, { failedLoginWindowAt: { lt: windowStart } }] }] },
        data: { failedLoginCount: 1, failedLoginWindowAt: now, lockedUntil: null },
      });
      if (restarted.count === 1) return { slot: 1 };
      const taken = await prisma.user.updateMany({
        where: { id, AND: [unlocked, { failedLoginCount: { lt: policy.threshold } }] },
        data: { failedLoginCount: { increment: 1 } },
      });
      const row = await prisma.user.findUnique({ where: { id }, select: { failedLoginCount: true, lockedUntil: true } });
      if (taken.count === 1) return { slot: row?.failedLoginCount ?? policy.threshold };
      const lockedUntil = row?.lockedUntil && row.lockedUntil > now ? row.lockedUntil : new Date(now.getTime() + policy.lockMs);
      return { lockedUntil };
    },

    /**
     * Settles a slot. A failure keeps it; the failure that used the last slot locks the
     * account. A success gives its slot back, and clears the count only if no attempt
     * took a slot after it (a right guess racing wrong ones must not wipe their count).
     * A check that could not run (an outage) gives its slot back.
     */
    async settleAttempt(
      id: string,
      slot: number,
      outcome: 'failed' | 'succeeded' | 'not_checked',
      now: Date,
      policy: { threshold: number; lockMs: number },
    ): Promise<{ newlyLocked: Date | null }> {
      if (outcome === 'failed') {
        if (slot < policy.threshold) return { newlyLocked: null };
        const lockedUntil = new Date(now.getTime() + policy.lockMs);
        const locked = await prisma.user.updateMany({
          where: { id, OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] },
          data: { lockedUntil, failedLoginCount: 0, failedLoginWindowAt: null },
        });
        return { newlyLocked: locked.count === 1 ? lockedUntil : null };
      }
      if (outcome === 'succeeded') {
        const cleared = await prisma.user.updateMany({
          where: { id, failedLoginCount: slot, lockedUntil: null },
          data: { failedLoginCount: 0, failedLoginWindowAt: null },
        });
        if (cleared.count === 1) return { newlyLocked: null };
      }
      await prisma.user.updateMany({ where: { id, failedLoginCount: { gt: 0 } }, data: { failedLoginCount: { decrement: 1 } } });
      return { newlyLocked: null };
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

    findForAdmin: (id: string): Promise<AdminUserRow | null> => prisma.user.findUnique({ where: { id }, select: adminUserSelect }),

    /** Oldest first by creation; the cursor is the id of the last row of the previous page. */
    async listForAdmin(filter: { role?: string; status?: string; q?: string; limit: number; cursor?: string }) {
      const rows = await prisma.user.findMany({
        where: {
          ...(filter.role ? { role: filter.role } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          ...(filter.q ? { id: { in: await idsWithUsernameContaining(filter.q) } } : {}),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: filter.limit + 1,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
        select: adminUserSelect,
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    },

    exists: async (id: string) => (await prisma.user.count({ where: { id } })) > 0,

    /**
     * Compare-and-set on the status; leaving "active" also bumps the token version in
     * the same statement, so every access token of the user fails its next request.
     */
    async setStatus(id: string, from: string, to: 'active' | 'disabled'): Promise<boolean> {
      const result = await prisma.user.updateMany({
        where: { id, status: from },
        data: { status: to, ...(to === 'disabled' ? { tokenVersion: { increment: 1 } } : {}) },
      });
      return result.count === 1;
    },

    /** Removes the personal fields of the row; the id stays so audit records keep a pseudonymous reference. */
    async erase(id: string, pseudonym: string): Promise<boolean> {
      const result = await prisma.user.updateMany({
        where: { id, status: { not: 'erased' } },
        data: {
          username: pseudonym,
          passwordHash: '',
          publicKeyPem: null,
          publicKeyFingerprint: null,
          keyAlgorithm: null,
          status: 'erased',
          tokenVersion: { increment: 1 },
          failedLoginCount: 0,
          failedLoginWindowAt: null,
          lockedUntil: null,
          lastLoginAt: null,
        },
      });
      return result.count === 1;
    },

    touchLastLogin: (id: string, at: Date) => prisma.user.updateMany({ where: { id }, data: { lastLoginAt: at } }),

    publicKey: (id: string) =>
      prisma.user.findUnique({
        where: { id },
        select: { id: true, publicKeyPem: true, publicKeyFingerprint: true, keyAlgorithm: true, keyGeneratedAt: true },
      }),
  };
}
export type UsersRepository = ReturnType<typeof createUsersRepository>;
