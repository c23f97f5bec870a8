import Type from 'typebox';
import { Id, Nullable, Page, PageQuery, Timestamp } from './common.ts';

/** What a notification tells of (API.md Notifications). */
export const NotificationKinds = [
  'access_requested',
  'access_granted',
  'access_denied',
  'access_revoked',
  'grant_expiring',
  'grant_expired',
  'grant_suspended',
  'file_downloaded',
  'incident',
  'alert',
] as const;
export const NotificationKind = Type.Union([
  Type.Literal('access_requested'),
  Type.Literal('access_granted'),
  Type.Literal('access_denied'),
  Type.Literal('access_revoked'),
  Type.Literal('grant_expiring'),
  Type.Literal('grant_expired'),
  Type.Literal('grant_suspended'),
  Type.Literal('file_downloaded'),
  Type.Literal('incident'),
  Type.Literal('alert'),
]);
export type NotificationKind = (typeof NotificationKinds)[number];

export const Notification = Type.Object({
  id: Id,
  kind: NotificationKind,
  message: Type.String(),
  fileId: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  /** How many events a batched notice stands for (downloads of one file within an hour); 1 otherwise. */
  count: Type.Integer({ minimum: 1 }),
  createdAt: Timestamp,
  readAt: Nullable(Timestamp),
});
export type Notification = Type.Static<typeof Notification>;

/** A page of the caller's notifications, newest first, with the caller's unread total. */
export const NotificationList = Type.Object({
  ...Page(Notification).properties,
  unread: Type.Integer({ minimum: 0 }),
});
export type NotificationList = Type.Static<typeof NotificationList>;

export const NotificationsQuery = Type.Object(
  {
    ...PageQuery,
    /** true: only unread ones; false: only read ones; absent: all. */
    unread: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type NotificationsQuery = Type.Static<typeof NotificationsQuery>;

export const UnreadCount = Type.Object({ unread: Type.Integer({ minimum: 0 }) });
export type UnreadCount = Type.Static<typeof UnreadCount>;

export const ReadAllResponse = Type.Object({ updated: Type.Integer({ minimum: 0 }), unread: Type.Integer({ minimum: 0 }) });
export type ReadAllResponse = Type.Static<typeof ReadAllResponse>;

/** An email address as people type it: no spaces, one @, a dot in the domain. */
export const EmailAddress = Type.String({ minLength: 6, maxLength: 254, pattern: '^[^\\s@]{1,64}@[^\\s@]+\\.[^\\s@]+$' });

export const NotificationSettings = Type.Object({
  email: Nullable(Type.String()),
  /** Nothing is emailed until the address was confirmed through the link sent to it. */
  emailVerified: Type.Boolean(),
  /** The kinds that are also emailed (to a verified address). */
  events: Type.Array(NotificationKind),
  /** false when the server has no mail transport configured (SMTP_URL unset): nothing is ever emailed. */
  emailEnabled: Type.Boolean(),
});
export type NotificationSettings = Type.Static<typeof NotificationSettings>;

export const NotificationSettingsBody = Type.Object(
  {
    email: Nullable(EmailAddress),
    events: Type.Array(NotificationKind, { uniqueItems: true, maxItems: NotificationKinds.length }),
  },
  { additionalProperties: false },
);
export type NotificationSettingsBody = Type.Static<typeof NotificationSettingsBody>;

export const VerifyEmailBody = Type.Object(
  { token: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);
export type VerifyEmailBody = Type.Static<typeof VerifyEmailBody>;
