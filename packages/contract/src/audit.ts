import Type from 'typebox';
import { Id, Nullable, Page, PageQuery, Timestamp } from './common.ts';

export const AuditEntry = Type.Object({
  id: Type.String(),
  userId: Nullable(Type.String()),
  operation: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  success: Type.Boolean(),
  timestamp: Timestamp,
  ipAddress: Nullable(Type.String()),
});
export type AuditEntry = Type.Static<typeof AuditEntry>;
export const AuditList = Page(AuditEntry);
export type AuditList = Type.Static<typeof AuditList>;

export const AuditListQuery = Type.Object(
  {
    ...PageQuery,
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    operation: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_]+$' })),
    userId: Type.Optional(Id),
    success: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AuditListQuery = Type.Static<typeof AuditListQuery>;

export const AuditReportQuery = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660, default: 30 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);
export type AuditReportQuery = Type.Static<typeof AuditReportQuery>;

export const AuditReport = Type.Object({
  from: Timestamp,
  to: Timestamp,
  total: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  byOperation: Type.Record(Type.String(), Type.Object({ total: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) })),
  /** Per UTC day, oldest first (the first and last day clipped to the period); only for periods of up to 92 days. */
  byDay: Type.Optional(
    Type.Array(Type.Object({ day: Type.String({ format: 'date' }), total: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) })),
  ),
});
export type AuditReport = Type.Static<typeof AuditReport>;

export const AuditVerifyResult = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ minimum: 0 }),
  firstBrokenId: Nullable(Type.String()),
  /** What broke: record_altered, record_missing, checkpoint_invalid, checkpoint_mismatch, records_missing_after_checkpoint. */
  reason: Nullable(Type.String()),
});
export type AuditVerifyResult = Type.Static<typeof AuditVerifyResult>;

export const AuditPublicKey = Type.Object({
  algorithm: Type.Literal('Ed25519'),
  keyId: Type.String(),
  publicKeyPem: Type.String(),
});

export const AuditPurgeResult = Type.Object({
  dryRun: Type.Boolean(),
  auditRecords: Type.Integer({ minimum: 0 }),
  closedGrants: Type.Integer({ minimum: 0 }),
  tombstones: Type.Integer({ minimum: 0 }),
});
export type AuditPurgeResult = Type.Static<typeof AuditPurgeResult>;

export const AlertRule = Type.Union([
  Type.Literal('failed_logins'),
  Type.Literal('unusual_access'),
  Type.Literal('keygen_failure'),
  Type.Literal('key_store_unavailable'),
  Type.Literal('unauthorized_access'),
  Type.Literal('mass_download'),
]);
export type AlertRule = Type.Static<typeof AlertRule>;
export const AlertSeverity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
export type AlertSeverity = Type.Static<typeof AlertSeverity>;

export const Alert = Type.Object({
  id: Id,
  rule: AlertRule,
  severity: AlertSeverity,
  subjectUserId: Nullable(Type.String()),
  message: Type.String(),
  count: Type.Integer({ minimum: 1 }),
  firstSeenAt: Timestamp,
  lastSeenAt: Timestamp,
  acknowledged: Type.Boolean(),
  acknowledgedBy: Nullable(Type.String()),
});
export type Alert = Type.Static<typeof Alert>;
export const AlertList = Page(Alert);
export type AlertList = Type.Static<typeof AlertList>;
export const AlertsQuery = Type.Object(
  { ...PageQuery, acknowledged: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type AlertsQuery = Type.Static<typeof AlertsQuery>;
