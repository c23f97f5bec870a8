import Type from 'typebox';
import { Id, Nullable, Page, PageQuery, Timestamp } from './common.ts';
import { AccessStatus } from './files.ts';
import { Password } from './auth.ts';

export const AccessRequest = Type.Object({
  id: Id,
  fileId: Id,
  filename: Type.String(),
  consultantId: Id,
  consultantName: Type.String(),
  status: AccessStatus,
  reason: Type.String(),
  /** The owner's reason when denying, if given. */
  decisionReason: Nullable(Type.String()),
  createdAt: Timestamp,
  processedAt: Nullable(Timestamp),
  expiresAt: Nullable(Timestamp),
  maxDownloads: Nullable(Type.Integer({ minimum: 1 })),
  downloadCount: Type.Integer({ minimum: 0 }),
  /** Null while unlimited. */
  downloadsRemaining: Nullable(Type.Integer({ minimum: 0 })),
  consultantKeyFingerprint: Nullable(Type.String()),
});
export type AccessRequest = Type.Static<typeof AccessRequest>;

export const CreateAccessRequestBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export type CreateAccessRequestBody = Type.Static<typeof CreateAccessRequestBody>;

export const ListAccessRequestsQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(AccessStatus), fileId: Type.Optional(Id) },
  { additionalProperties: false },
);
export type ListAccessRequestsQuery = Type.Static<typeof ListAccessRequestsQuery>;
export const AccessRequestList = Page(AccessRequest);
export type AccessRequestList = Type.Static<typeof AccessRequestList>;

export const MAX_DOWNLOADS_LIMIT = 1_000_000;
export const ApproveBody = Type.Object(
  {
    expiresAt: Type.Optional(Timestamp),
    maxDownloads: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DOWNLOADS_LIMIT })),
  },
  { additionalProperties: false },
);
export type ApproveBody = Type.Static<typeof ApproveBody>;

export const DenyBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type DenyBody = Type.Static<typeof DenyBody>;

export const EmptyBody = Type.Object({}, { additionalProperties: false });

export const DownloadBody = Type.Object({ password: Password }, { additionalProperties: false });
export type DownloadBody = Type.Static<typeof DownloadBody>;
