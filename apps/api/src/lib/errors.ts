import type { ErrorCode } from '@sfe/contract';

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

export const notFound = (what = 'Resource') => new AppError(404, 'NOT_FOUND', `${what} not found.`);
export const forbidden = (detail = 'You are not allowed to do this.') => new AppError(403, 'FORBIDDEN', detail);
export const conflict = (detail: string) => new AppError(409, 'CONFLICT', detail);
export const unauthorized = (detail = 'Authentication required.') => new AppError(401, 'UNAUTHORIZED', detail);
/** 400 VALIDATION_FAILED naming the offending field, as route schema failures do. */
export const invalidField = (name: string, message: string) =>
  new AppError(400, 'VALIDATION_FAILED', `${name} ${message}.`, {}, [{ name, message }]);
export const accountDisabled = () => new AppError(403, 'ACCOUNT_DISABLED', 'This account is disabled. Contact your administrator.');
export const privateKeyMissing = (detail = 'The private key was deleted by an administrator; it cannot be used.') =>
  new AppError(409, 'PRIVATE_KEY_MISSING', detail);
export const accessNotApproved = (detail = 'Access to this file is not approved.') => new AppError(403, 'ACCESS_NOT_APPROVED', detail);
/** The audit record of a sensitive operation could not be written, so the operation did not happen. */
export const auditUnavailable = () =>
  new AppError(503, 'AUDIT_UNAVAILABLE', 'The audit trail cannot be written right now; nothing was done. Try again later.', { 'retry-after': '5' });
