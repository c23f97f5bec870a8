import { ApiNetworkError, isAbortError, isApiError } from '@sfe/api-client';

export interface ReadableError {
  message: string;
  /** The problem `code`, for support; null for errors that never reached the API. */
  code: string | null;
}

function minutes(seconds: number): string {
  const m = Math.max(1, Math.ceil(seconds / 60));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/**
 * Plain words for the codes a person meets in normal use; anything else shows the
 * API's own `detail`, which problem details promise to be human-readable.
 */
export function describeError(error: unknown): ReadableError {
  if (isApiError(error)) {
    const retry = error.retryAfter;
    const known: Record<string, string> = {
      INVALID_CREDENTIALS: 'Wrong username or password.',
      WRONG_PASSWORD: 'That password is not correct.',
      ACCOUNT_LOCKED: `This account is locked after too many failed sign-ins.${retry ? ` Try again in ${minutes(retry)}.` : ''}`,
      RATE_LIMITED: `Too many attempts.${retry ? ` Try again in ${minutes(retry)}.` : ' Please wait and try again.'}`,
      ACCOUNT_DISABLED: 'This account has been disabled. Contact your administrator.',
      DOWNLOAD_LIMIT_REACHED: 'You have used all the downloads allowed for this file.',
      GRANT_EXPIRED: 'Your access to this file has expired.',
      ACCESS_NOT_APPROVED: 'Your access to this file is not approved (it may have been revoked).',
      PAYLOAD_TOO_LARGE: 'The file is larger than the server accepts.',
      CONFLICT: error.detail || 'That change conflicts with the current state. Refresh and try again.',
    };
    return { message: known[error.code] ?? (error.detail || error.problem.title), code: error.code };
  }
  if (error instanceof ApiNetworkError) return { message: error.message, code: null };
  if (isAbortError(error)) return { message: 'Cancelled.', code: null };
  return { message: 'Something went wrong. Please try again.', code: null };
}

/** A field's message from a VALIDATION_FAILED problem (`body.password` → `password`). */
export function fieldError(error: unknown, field: string): string | undefined {
  return isApiError(error) ? error.fieldMessage(field) : undefined;
}
