import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  Notification,
  NotificationList,
  NotificationSettings,
  NotificationSettingsBody,
  NotificationsQuery,
  ReadAllResponse,
  UnreadCount,
} from '@sfe/contract';
import type { Actor } from '../../lib/actor.ts';
import { invalidField, notFound } from '../../lib/errors.ts';
import { parseEvents, type NotificationRow, type NotificationsRepository, type SettingRow } from './notifications.repository.ts';

export interface NotificationsServiceDeps {
  notifications: NotificationsRepository;
  /** null when SMTP_URL is unset: settings are kept, nothing is ever emailed. */
  email: { publicUrl: string } | null;
  /** How long a verification link works. */
  verifyTtlMs?: number;
}

export const VERIFY_SUBJECT = 'SFE: confirm your email address';
const DAY = 86_400_000;
/** A new link is sent at most this often for an unchanged address (saving again resends). */
const RESEND_AFTER_MS = 60_000;

export const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const toDto = (row: NotificationRow): Notification => ({
  id: row.id,
  kind: row.kind,
  message: row.message,
  fileId: row.fileId,
  requestId: row.requestId,
  count: row.count,
  createdAt: row.createdAt.toISOString(),
  readAt: row.readAt?.toISOString() ?? null,
});

/**
 * The caller's own notices and email settings. Every call is scoped to the actor: a
 * notice of someone else answers 404, as if it did not exist.
 */
export function createNotificationsService(deps: NotificationsServiceDeps) {
  const repo = deps.notifications;
  const verifyTtlMs = deps.verifyTtlMs ?? DAY;

  const present = (row: SettingRow | null): NotificationSettings => ({
    email: row?.email ?? null,
    emailVerified: Boolean(row?.email && row.emailVerifiedAt),
    events: row ? parseEvents(row.events) : [],
    emailEnabled: deps.email !== null,
  });

  /** A fresh single-use token; only its SHA-256 is kept. The link carries it in the fragment, which no server logs. */
  async function sendVerification(userId: string, address: string, now: Date): Promise<void> {
    if (!deps.email) return;
    const token = randomBytes(32).toString('base64url');
    await repo.saveSetting(userId, { verifyTokenHash: sha256Hex(token), verifyExpiresAt: new Date(now.getTime() + verifyTtlMs), verifySentAt: now });
    const link = `${deps.email.publicUrl}/verify-email#token=${token}`;
    const body = `Someone (hopefully you) asked SFE to send notifications to this address.\n\nConfirm it within 24 hours by opening this link while signed in:\n${link}\n\nIf this was not you, ignore this email: nothing will be sent here.\n`;
    await repo.queueVerification(userId, address, VERIFY_SUBJECT, body);
  }

  return {
    async list(actor: Actor, query: NotificationsQuery): Promise<NotificationList> {
      if (query.cursor && !(await repo.isOwn(actor.id, query.cursor))) throw invalidField('querystring.cursor', 'is not a cursor of this list');
      const page = await repo.list({
        userId: actor.id,
        limit: query.limit ?? 50,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.unread !== undefined ? { unread: query.unread } : {}),
      });
      return { items: page.rows.map(toDto), nextCursor: page.nextCursor, unread: await repo.unreadCount(actor.id) };
    },

    unreadCount: async (actor: Actor): Promise<UnreadCount> => ({ unread: await repo.unreadCount(actor.id) }),

    async read(actor: Actor, id: string): Promise<Notification> {
      await repo.markRead(actor.id, id, new Date());
      const row = await repo.findOwn(actor.id, id);
      if (!row) throw notFound('Notification');
      return toDto(row);
    },

    async readAll(actor: Actor): Promise<ReadAllResponse> {
      const updated = await repo.markAllRead(actor.id, new Date());
      return { updated, unread: await repo.unreadCount(actor.id) };
    },

    settings: async (actor: Actor): Promise<NotificationSettings> => present(await repo.setting(actor.id)),

    /** A new or changed address starts unverified and is sent a link; nothing is emailed before it is confirmed. */
    async saveSettings(actor: Actor, body: NotificationSettingsBody): Promise<NotificationSettings> {
      const now = new Date();
      const current = await repo.setting(actor.id);
      const email = body.email === null ? null : body.email.trim();
      const changed = (current?.email ?? null)?.toLowerCase() !== email?.toLowerCase();
      const saved = await repo.saveSetting(actor.id, {
        email,
        events: JSON.stringify(body.events),
        ...(changed ? { emailVerifiedAt: null, verifyTokenHash: null, verifyExpiresAt: null, verifySentAt: null } : {}),
      });
      const resend = !changed && !saved.emailVerifiedAt && (!saved.verifySentAt || now.getTime() - saved.verifySentAt.getTime() > RESEND_AFTER_MS);
      if (email && !saved.emailVerifiedAt && (changed || resend)) await sendVerification(actor.id, email, now);
      return present(await repo.setting(actor.id));
    },

    async verify(actor: Actor, token: string): Promise<NotificationSettings> {
      const now = new Date();
      const current = await repo.setting(actor.id);
      const wrong = () => invalidField('body.token', 'is not a current verification link for your address');
      if (!current?.email || !current.verifyTokenHash || !current.verifyExpiresAt || current.verifyExpiresAt <= now) throw wrong();
      const given = Buffer.from(sha256Hex(token), 'hex');
      const stored = Buffer.from(current.verifyTokenHash, 'hex');
      if (given.length !== stored.length || !timingSafeEqual(given, stored)) throw wrong();
      if (!(await repo.confirmVerification(actor.id, current.verifyTokenHash, now))) throw wrong();
      return present(await repo.setting(actor.id));
    },
  };
}
export type NotificationsService = ReturnType<typeof createNotificationsService>;
