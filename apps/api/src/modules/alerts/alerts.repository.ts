import type { PrismaClient } from '../../db/client.ts';
import type { Notice, NoticeWriter } from '../notifications/notifications.repository.ts';
import type { AlertRule, AlertSeverity } from '../../generated/prisma/enums.ts';

export interface AlertRow {
  id: string;
  rule: AlertRule;
  severity: AlertSeverity;
  subjectUserId: string | null;
  message: string;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedById: string | null;
}

const alertSelect = {
  id: true,
  rule: true,
  severity: true,
  subjectUserId: true,
  message: true,
  count: true,
  firstSeenAt: true,
  lastSeenAt: true,
  acknowledgedAt: true,
  acknowledgedById: true,
} as const;

export interface NewAlert {
  rule: AlertRule;
  severity: AlertSeverity;
  subjectUserId: string | null;
  subjectKey: string;
  windowStart: Date;
  message: string;
  details: Record<string, string | number | boolean | null>;
}

/** `notify`: the notices of a newly raised alert are written in the transaction that creates it. */
export function createAlertsRepository(prisma: PrismaClient, notify: NoticeWriter = async () => {}) {
  return {
    /**
     * Counts one event in a fixed window shared by every replica (the rate-limit
     * table): one atomic upsert, the window restarting in the same statement.
     */
    async countEvent(key: string, windowEndsAt: number, now: number): Promise<number> {
      const rows = await prisma.$queryRaw<Array<{ count: number | bigint }>>`
        INSERT INTO rate_limits (key, count, reset_at) VALUES (${key}, 1, ${windowEndsAt})
         ON CONFLICT(key) DO UPDATE SET
           count = CASE WHEN rate_limits.reset_at <= ${now} THEN 1 ELSE rate_limits.count + 1 END,
           reset_at = CASE WHEN rate_limits.reset_at <= ${now} THEN excluded.reset_at ELSE rate_limits.reset_at END
         RETURNING count`;
      return Number(rows[0]?.count ?? 0);
    },

    /**
     * One alert per rule, subject and window: the first event creates it, the next
     * bump count and lastSeenAt. `created` tells whether this call raised it.
     */
    async raise(alert: NewAlert, now: Date, noticesOf: (row: AlertRow) => Notice[] = () => []): Promise<{ row: AlertRow; created: boolean }> {
      const key = { rule: alert.rule, subjectKey: alert.subjectKey, windowStart: alert.windowStart };
      const bumped = await prisma.alert.updateMany({
        where: key,
        data: { count: { increment: 1 }, lastSeenAt: now },
      });
      if (bumped.count === 0) {
        try {
          const row = await prisma.$transaction(async (tx) => {
            const created = await tx.alert.create({
              data: { ...alert, details: JSON.stringify(alert.details), firstSeenAt: now, lastSeenAt: now },
              select: alertSelect,
            });
            await notify(tx, noticesOf(created));
            return created;
          });
          return { row, created: true };
        } catch (error) {
          // Another replica raised it first: count this one on its alert.
          if ((error as { code?: unknown }).code !== 'P2002') throw error;
          await prisma.alert.updateMany({ where: key, data: { count: { increment: 1 }, lastSeenAt: now } });
        }
      }
      const row = await prisma.alert.findUniqueOrThrow({ where: { rule_subjectKey_windowStart: key }, select: alertSelect });
      return { row, created: false };
    },

    async list(filter: { acknowledged?: boolean; limit: number; cursor?: string }): Promise<{ rows: AlertRow[]; nextCursor: string | null }> {
      const rows = await prisma.alert.findMany({
        where: filter.acknowledged === undefined ? {} : { acknowledgedAt: filter.acknowledged ? { not: null } : null },
        orderBy: [{ lastSeenAt: 'desc' }, { id: 'desc' }],
        take: filter.limit + 1,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
        select: alertSelect,
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    },

    exists: async (id: string) => (await prisma.alert.count({ where: { id } })) > 0,

    findById: (id: string): Promise<AlertRow | null> => prisma.alert.findUnique({ where: { id }, select: alertSelect }),

    /** Compare-and-set: the first acknowledgement wins and is kept. */
    async acknowledge(id: string, by: string, now: Date): Promise<boolean> {
      const result = await prisma.alert.updateMany({ where: { id, acknowledgedAt: null }, data: { acknowledgedAt: now, acknowledgedById: by } });
      return result.count === 1;
    },
  };
}
export type AlertsRepository = ReturnType<typeof createAlertsRepository>;
