import Type from 'typebox';

/** Opaque identifier (a UUID today; clients must not rely on that). */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

/** ISO 8601 UTC timestamp. */
export const Timestamp = Type.String({ format: 'date-time' });

export const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};

export const Page = <T extends Type.TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

/** RFC 9457 problem details, as every error answers. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
  instance: Type.Optional(Type.String()),
  /** For VALIDATION_FAILED: the offending fields (e.g. `body.password`). */
  fields: Type.Optional(Type.Array(Type.Object({ name: Type.String(), message: Type.String() }))),
});
export type Problem = Type.Static<typeof Problem>;

/** Stable error codes (docs/api.md). */
export const ErrorCodes = [
  'VALIDATION_FAILED',
  'INVALID_CREDENTIALS',
  'UNAUTHORIZED',
  'ACCOUNT_LOCKED',
  'ACCOUNT_DISABLED',
  'NOT_FOUND',
  'FORBIDDEN',
  'ALGORITHM_DISABLED',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'WRONG_PASSWORD',
  'ACCESS_NOT_APPROVED',
  'GRANT_EXPIRED',
  'DOWNLOAD_LIMIT_REACHED',
  'CONFLICT',
  'RANGE_NOT_SATISFIABLE',
  'UNSUPPORTED_MEDIA_TYPE',
  'KEY_STORE_UNAVAILABLE',
  'KEK_UNAVAILABLE',
  'PRIVATE_KEY_MISSING',
  'SERVICE_UNAVAILABLE',
  'AUDIT_UNAVAILABLE',
  'INTERNAL_ERROR',
  'INVALID_MFA_CODE',
  'MFA_REQUIRED',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export const HealthResponse = Type.Object({ status: Type.Literal('ok') });
export const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({
    database: Type.Union([Type.Literal('ok'), Type.Literal('down')]),
    keyStore: Type.Union([Type.Literal('ok'), Type.Literal('down')]),
    /** Every key id that still wraps data is configured (see the start-up preflight). */
    kek: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('down')])),
  }),
});
export type ReadyResponse = Type.Static<typeof ReadyResponse>;
