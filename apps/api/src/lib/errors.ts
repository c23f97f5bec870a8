import type { ErrorCode } from '@sfe/contract';

/**
 * The one code -> HTTP status table. A service names what went wrong (`fail(code,
 * detail)`); the status follows from the code, so the same code can never answer
 * two different statuses from two places.
 */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  ALGORITHM_DISABLED: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHORIZED: 401,
  WRONG_PASSWORD: 401,
  ACCOUNT_DISABLED: 403,
  FORBIDDEN: 403,
  ACCESS_NOT_APPROVED: 403,
  GRANT_EXPIRED: 403,
  DOWNLOAD_LIMIT_REACHED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRIVATE_KEY_MISSING: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  ACCOUNT_LOCKED: 429,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  KEY_STORE_UNAVAILABLE: 503,
  KEK_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  INVALID_MFA_CODE: 401,
  MFA_REQUIRED: 403,
};

/**
 * An error a service throws on purpose. The errors plugin turns it into an RFC 9457
 * problem with this status and code; `detail` is shown to the client, so it never
 * holds key material, paths or internals.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly fields?: Array<{ name: string; message: string }>,
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

/** An AppError whose status comes from STATUS_OF. */
export const fail = (code: ErrorCode, detail: string, headers: Record<string, string> = {}) =>
  new AppError(STATUS_OF[code], code, detail, headers);

export const notFound = (what = 'Resource') => fail('NOT_FOUND', `${what} not found.`);
export const forbidden = (detail = 'You are not allowed to do this.') => fail('FORBIDDEN', detail);
export const conflict = (detail: string) => fail('CONFLICT', detail);
export const unauthorized = (detail = 'Authentication required.') => fail('UNAUTHORIZED', detail);
/** 400 VALIDATION_FAILED naming the offending field, as route schema failures do. */
export const invalidField = (name: string, message: string) =>
  new AppError(400, 'VALIDATION_FAILED', `${name} ${message}.`, {}, [{ name, message }]);
/** The audit record of a sensitive operation could not be written, so the operation did not happen. */
export const auditUnavailable = () =>
  fail('AUDIT_UNAVAILABLE', 'The audit trail cannot be written right now; nothing was done. Try again later.', { 'retry-after': '5' });
/** A key id that wraps the data asked for is not in the configured KEK ring. */
export const kekUnavailable = () =>
  fail('KEK_UNAVAILABLE', 'The master key that protects this data is not configured on the server; an operator must restore it.', { 'retry-after': '60' });

/**
 * The server must not start on this data (e.g. a key id that wraps DEKs is not
 * configured): one line for the operator, never a stack trace.
 */
export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreflightError';
  }
}
