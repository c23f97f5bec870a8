import Type from 'typebox';
import { Id, Nullable, Page, PageQuery, Timestamp } from './common.ts';
import { Role, User } from './auth.ts';

export const AdminUserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('erased')]);

export const AdminUser = Type.Object({
  ...User.properties,
  status: AdminUserStatus,
  lastLoginAt: Nullable(Timestamp),
  failedLogins: Type.Integer({ minimum: 0 }),
  lockedUntil: Nullable(Timestamp),
  hasPrivateKey: Type.Boolean(),
  /** Approved, unexpired grants the user holds (consultant) or has given on its files (organization). */
  activeGrants: Type.Integer({ minimum: 0 }),
});
export type AdminUser = Type.Static<typeof AdminUser>;
export const AdminUserList = Page(AdminUser);
export type AdminUserList = Type.Static<typeof AdminUserList>;

export const AdminUsersQuery = Type.Object(
  {
    ...PageQuery,
    role: Type.Optional(Role),
    status: Type.Optional(AdminUserStatus),
    /** Part of the username. */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AdminUsersQuery = Type.Static<typeof AdminUsersQuery>;

export const GrantsRevokedResponse = Type.Object({ grantsRevoked: Type.Integer({ minimum: 0 }) });
export const PrivateKeyDeletedResponse = Type.Object({ privateKeyDeleted: Type.Literal(true) });

export const IncidentResponse = Type.Object({
  disabled: Type.Boolean(),
  grantsRevoked: Type.Integer({ minimum: 0 }),
  privateKeyDeleted: Type.Boolean(),
  sessionsEnded: Type.Integer({ minimum: 0 }),
});
export type IncidentResponse = Type.Static<typeof IncidentResponse>;

/**
 * Signed proof of an erasure. `signature` is base64 Ed25519 (key at
 * GET /api/v1/audit/public-key, id `keyId`) over the UTF-8 JSON array
 * ["sfe-erasure-v1", userId, erasedAt, privateKeyDestroyed, filesShredded, grantsRevoked, keyId].
 */
export const ErasureCertificate = Type.Object({
  userId: Id,
  erasedAt: Timestamp,
  privateKeyDestroyed: Type.Boolean(),
  filesShredded: Type.Integer({ minimum: 0 }),
  grantsRevoked: Type.Integer({ minimum: 0 }),
  /** The pseudonym that replaced the username (audit records keep the user id). */
  pseudonym: Type.String(),
  keyId: Type.String(),
  algorithm: Type.Literal('Ed25519'),
  signature: Type.String(),
});
export type ErasureCertificate = Type.Static<typeof ErasureCertificate>;
