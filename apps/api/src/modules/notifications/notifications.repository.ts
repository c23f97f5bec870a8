import type { NotificationKind as Kind } from '@sfe/contract';
import type { Prisma, PrismaClient } from '../../db/client.ts';

/** The client of an interactive transaction: notices are written with the change they tell of. */
export type Tx = Prisma.TransactionClient;

/** One notice to write. `batchKey`: repeats with the same key are counted on one row. */
export interface Notice {
  /** A user id, or every active admin. */
  to: string | { admins: true };
  kind: Kind;
  message: string;
  fileId?: string | null;
  requestId?: string | null;
  batchKey?: string;
  /** For a batched notice: the message once it stands for `count` events. */
  repeated?: (count: number) => string;
}

/** Writes notices (and their emails) inside the caller's transaction. */
export type NoticeWriter = (tx: Tx, notices: readonly Notice[]) => Promise<void>;

export interface EmailSettings {
  /** The SPA's public origin: emails link to it, never to the API. */
  publicUrl: string;
}

const notificationSelect = {
  id: true,
  kind: true,
  message: true,
  fileId: true,
  requestId: true,
  count: true,
  createdAt: true,
  readAt: true,
} as const satisfies Prisma.NotificationSelect;
export type NotificationRow = Prisma.NotificationGetPayload<{ select: typeof notificationSelect }>;

export type SettingRow = {
  userId: string;
  email: string | null;
  emailVerifiedAt: Date | null;
  events: string;
  verifyTokenHash: string | null;
  verifyExpiresAt: Date | null;
  verifySentAt: Date | null;
};

export const parseEvents = (raw: string): Kind[] => {
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? (value.filter((v) => typeof v === 'string') as Kind[]) : [];
  } catch {
    return [];
  }
};

const SUBJECTS: Record<Kind, string> = {
  access_requested: 'New access request',
  access_granted: 'Access granted',
  access_denied: 'Access request denied',
  access_revoked: 'Access revoked',
  grant_expiring: 'Access expires soon',
  grant_expired: 'Access expired',
  grant_suspended: 'Access suspended',
  file_downloaded: 'File downloaded',
  incident: 'Security action by an administrator',
  alert: 'Security alert',
};

export function emailText(message: string, publicUrl: string): string {
  return `${message}\n\nOpen SFE to see your notifications: ${publicUrl}/notifications\n\nYou receive this because you chose to be emailed about this kind of event in your SFE profile.\n`;
}

export function createNotificationsRepository(prisma: PrismaClient, email: EmailSettings | null) {
  async function recipients(tx: Tx, to: Notice['to']): Promise<string[]> {
    if (typeof to === 'string') return [to];
    const admins = await tx.user.findMany({ where: { role: 'admin', status: 'active' }, select: { id: true } });
    return admins.map((a) => a.id);
  }

  async function enqueueEmail(tx: Tx, userId: string, kind: Kind, message: string): Promise<void> {
    if (!email) return;
    const setting = await tx.notificationSetting.findUnique({ where: { userId } });
    if (!setting?.email || !setting.emailVerifiedAt || !parseEvents(setting.events).includes(kind)) return;
    await tx.emailOutbox.create({
      data: { userId, toAddress: setting.email, subject: `SFE: ${SUBJECTS[kind]}`, body: emailText(message, email.publicUrl) },
    });
  }

  const write: NoticeWriter = async (tx, notices) => {
    const now = new Date();
    for (const notice of notices) {
      for (const userId of await recipients(tx, notice.to)) {
        const data = { userId, kind: notice.kind, message: notice.message, fileId: notice.fileId ?? null, requestId: notice.requestId ?? null };
        if (!notice.batchKey) {
          await tx.notification.create({ data });
          await enqueueEmail(tx, userId, notice.kind, notice.message);
          continue;
        }
        const batchKey = `${notice.batchKey}:${userId}`;
        const row = await tx.notification.upsert({
          where: { batchKey },
          create: { ...data, batchKey },
          // A repeat counts on the same notice and shows it as unread again.
          update: { count: { increment: 1 }, updatedAt: now, readAt: null },
          select: { id: true, count: true },
        });
        if (row.count > 1 && notice.repeated) {
          await tx.notification.update({ where: { id: row.id }, data: { message: notice.repeated(row.count) } });
        }
        // One email per batch: the first event of it.
        if (row.count === 1) await enqueueEmail(tx, userId, notice.kind, notice.message);
      }
    }
  };

  return {
    write,
    /** Notices without a state change of their own to ride on (one transaction of their own). */
    writeNow: (notices: readonly Notice[]) => prisma.$transaction((tx) => write(tx, notices)),

    async list(filter: { userId: string; unread?: boolean; limit: number; cursor?: string }): Promise<{ rows: NotificationRow[]; nextCursor: string | null }> {
      const rows = await prisma.notification.findMany({
        where: { userId: filter.userId, ...(filter.unread === undefined ? {} : { readAt: filter.unread ? null : { not: null } }) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: filter.limit + 1,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
        select: notificationSelect,
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    },

    /** A cursor must be one of the user's own notices. */
    isOwn: async (userId: string, id: string) => (await prisma.notification.count({ where: { id, userId } })) > 0,

    unreadCount: (userId: string) => prisma.notification.count({ where: { userId, readAt: null } }),

    findOwn: (userId: string, id: string): Promise<NotificationRow | null> =>
      prisma.notification.findFirst({ where: { id, userId }, select: notificationSelect }),

    /** Only the owner's own notice; the first read time is kept. */
    markRead: async (userId: string, id: string, now: Date) =>
      (await prisma.notification.updateMany({ where: { id, userId, readAt: null }, data: { readAt: now } })).count,

    markAllRead: async (userId: string, now: Date) =>
      (await prisma.notification.updateMany({ where: { userId, readAt: null }, data: { readAt: now } })).count,

    setting: (userId: string): Promise<SettingRow | null> => prisma.notificationSetting.findUnique({ where: { userId } }),

    saveSetting: (userId: string, data: Omit<Partial<SettingRow>, 'userId'>): Promise<SettingRow> =>
      prisma.notificationSetting.upsert({
        where: { userId },
        create: { userId, ...data },
        update: { ...data, updatedAt: new Date() },
      }),

    /**
     * Marks the address verified if `tokenHash` is still the pending one (compare-and-set,
     * single use), and queues nothing: the caller compared the hash in constant time first.
     */
    async confirmVerification(userId: string, tokenHash: string, now: Date): Promise<boolean> {
      const result = await prisma.notificationSetting.updateMany({
        where: { userId, verifyTokenHash: tokenHash, verifyExpiresAt: { gt: now }, email: { not: null } },
        data: { emailVerifiedAt: now, verifyTokenHash: null, verifyExpiresAt: null, updatedAt: now },
      });
      return result.count === 1;
    },

    /** The verification email goes through the outbox too; older unsent ones for this user are dropped. */
    async queueVerification(userId: string, toAddress: string, subject: string, body: string): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.emailOutbox.deleteMany({ where: { userId, status: 'pending', subject } });
        await tx.emailOutbox.create({ data: { userId, toAddress, subject, body } });
      });
    },

    /**
     * Right to erasure: every notice, setting and email of the user goes, and other
     * people's notices stop naming it (messages name a party as "consultant <username>").
     */
    async eraseUser(userId: string, username: string): Promise<void> {
      // Usernames are [A-Za-z0-9._-]: only the dot means something in a pattern. A name ends
      // at a space, a parenthesis or a sentence's final dot (bob is not bob.smith).
      const named = new RegExp(`(onsultant) ${username.replace(/\./g, '\\.')}(?=[ )]|\\.(?:\\s|$)|$)`, 'g');
      await prisma.$transaction(async (tx) => {
        await tx.notification.deleteMany({ where: { userId } });
        await tx.notificationSetting.deleteMany({ where: { userId } });
        await tx.emailOutbox.deleteMany({ where: { userId } });
        const mentions = await tx.notification.findMany({ where: { message: { contains: username } }, select: { id: true, message: true } });
        for (const row of mentions) {
          const message = row.message.replace(named, '$1 (erased account)');
          if (message !== row.message) await tx.notification.update({ where: { id: row.id }, data: { message } });
        }
      });
    },

    /** Retention: read notices older than the cutoff. */
    purgeReadBefore: async (cutoff: Date) =>
      (await prisma.notification.deleteMany({ where: { readAt: { not: null, lt: cutoff } } })).count,

    // The email outbox, worked by one sender at a time (a lease).
    dueEmails: (now: Date, limit: number) =>
      prisma.emailOutbox.findMany({ where: { status: 'pending', nextAttemptAt: { lte: now } }, orderBy: { nextAttemptAt: 'asc' }, take: limit }),

    /** Sent: the body goes, so a verification token does not outlive its delivery in the database. */
    markSent: (id: string, now: Date) =>
      prisma.emailOutbox.updateMany({ where: { id, status: 'pending' }, data: { status: 'sent', sentAt: now, body: '', lastError: null } }),

    markAttemptFailed: (id: string, data: { attempts: number; lastError: string; nextAttemptAt: Date; failed: boolean }) =>
      prisma.emailOutbox.updateMany({
        where: { id, status: 'pending' },
        data: {
          attempts: data.attempts,
          lastError: data.lastError,
          nextAttemptAt: data.nextAttemptAt,
          ...(data.failed ? { status: 'failed' as const, body: '' } : {}),
        },
      }),

    outboxOf: (userId: string) => prisma.emailOutbox.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } }),
  };
}
export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
