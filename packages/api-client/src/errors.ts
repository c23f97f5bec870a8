import type { Problem } from '@sfe/contract';

export type ProblemField = NonNullable<Problem['fields']>[number];

/**
 * Every non-2xx answer becomes an ApiError carrying the RFC 9457 problem, so callers
 * branch on the stable `code` and never on English text.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: readonly ProblemField[];
  /** Seconds from Retry-After (lockout, rate limit), when the server sent one. */
  readonly retryAfter: number | null;
  readonly problem: Problem;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title);
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.fields = problem.fields ?? [];
    this.retryAfter = retryAfter;
  }

  /**
   * The message for one field. Accepts `password` or the server's `body.password`,
   * so forms need not know the request part a field travelled in.
   */
  fieldMessage(name: string): string | undefined {
    const match = this.fields.find((f) => f.name === name || f.name.replace(/^(body|query|params)\./, '') === name);
    return match?.message;
  }
}

/** Network failure, or an answer that is not ours (a proxy error page, say). */
export class ApiNetworkError extends Error {
  override readonly name = 'ApiNetworkError';
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

export function isAbortError(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'AbortError';
}

function parseRetryAfter(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.status === 'number';
}

/**
 * Builds the error for a failed answer from its status, headers and body text.
 * A body that is not a problem document still yields a problem with a generic
 * code, so the UI always has something readable and a code to quote to support.
 */
export function problemFromParts(status: number, contentType: string | null, bodyText: string, retryAfterHeader: string | null): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  if (contentType !== null && /json/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(bodyText);
      if (isProblem(parsed)) {
        return new ApiError(
          {
            type: typeof parsed.type === 'string' ? parsed.type : 'about:blank',
            title: typeof parsed.title === 'string' ? parsed.title : 'Request failed',
            status: parsed.status,
            detail: typeof parsed.detail === 'string' ? parsed.detail : '',
            code: parsed.code,
            ...(Array.isArray(parsed.fields) ? { fields: parsed.fields } : {}),
          },
          retryAfter,
        );
      }
    } catch {
      // Fall through to the generic problem below.
    }
  }
  return new ApiError(
    {
      type: 'about:blank',
      title: 'Request failed',
      status,
      detail: `The server answered with status ${status}.`,
      code: status >= 500 ? 'SERVICE_UNAVAILABLE' : 'HTTP_' + String(status),
    },
    retryAfter,
  );
}

export async function problemFromResponse(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // A body we cannot read still leaves the status.
  }
  return problemFromParts(response.status, response.headers.get('content-type'), text, response.headers.get('retry-after'));
}
