import { API_PREFIX } from './constants.ts';
import { type ApiError, ApiNetworkError, isAbortError, problemFromResponse } from './errors.ts';

export interface ApiClientOptions {
  /**
   * Origin of the API, without `/api/v1`: `''` for same-origin in the browser,
   * `http://127.0.0.1:3000` from Node.
   */
  baseUrl: string;
  /** The current access token, or null when signed out. Read on every request. */
  getAccessToken?: () => string | null;
  /**
   * Called once when an authenticated request answers 401 for a session reason.
   * Resolve true when a fresh access token is available; the request is then
   * repeated once. Implementations should share one in-flight refresh.
   */
  refresh?: () => Promise<boolean>;
  /** Called when a request stays unauthorized after the refresh attempt. */
  onUnauthorized?: (error: ApiError) => void;
  /** Called when an answer is 403 MFA_REQUIRED: the account must enrol a second factor first. */
  onMfaRequired?: (error: ApiError) => void;
  /** Injected for tests or runtimes without a global fetch. */
  fetch?: typeof globalThis.fetch;
}

/** 401 codes that judge a password in the body, not the session: never refresh on them. */
const CREDENTIAL_CODES: ReadonlySet<string> = new Set(['WRONG_PASSWORD', 'INVALID_CREDENTIALS']);

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below `/api/v1`, already encoded (see `segment`). */
  path: string;
  query?: Record<string, QueryValue> | undefined;
  json?: unknown;
  /** False for the token endpoints themselves: no bearer, no refresh loop. */
  auth?: boolean;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string>;
}

/** One network attempt; called again with fresh headers after a refresh. */
export type Attempt = (headers: Headers) => Promise<Response>;

/** Encodes one path segment, so an id can never change the route it is sent to. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

export function buildUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${baseUrl.replace(/\/+$/, '')}${API_PREFIX}${path}${search ? `?${search}` : ''}`;
}

export interface Transport {
  readonly options: ApiClientOptions;
  url(path: string, query?: Record<string, QueryValue>): string;
  /** Runs attempts with auth handling; resolves only with a 2xx response. */
  execute(attempt: Attempt, auth?: boolean): Promise<Response>;
  /** JSON request; answers the raw 2xx response. */
  send(spec: RequestSpec): Promise<Response>;
  json<T>(spec: RequestSpec): Promise<T>;
  empty(spec: RequestSpec): Promise<void>;
}

export function createTransport(options: ApiClientOptions): Transport {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  function authHeaders(auth: boolean, extra?: Record<string, string>): Headers {
    const headers = new Headers(extra);
    headers.set('accept', 'application/json, application/problem+json;q=0.9, */*;q=0.8');
    const token = auth ? options.getAccessToken?.() : null;
    if (token) headers.set('authorization', `Bearer ${token}`);
    return headers;
  }

  async function rejectUnauthorized(response: Response, auth: boolean): Promise<never> {
    const error = await problemFromResponse(response);
    if (auth && !CREDENTIAL_CODES.has(error.code)) options.onUnauthorized?.(error);
    throw error;
  }

  async function execute(attempt: Attempt, auth = true, extra?: Record<string, string>): Promise<Response> {
    let response = await guard(() => attempt(authHeaders(auth, extra)));
    if (response.status === 401 && auth && options.refresh) {
      const error = await problemFromResponse(response);
      if (CREDENTIAL_CODES.has(error.code)) throw error;
      const refreshed = await options.refresh().catch(() => false);
      if (!refreshed) {
        options.onUnauthorized?.(error);
        throw error;
      }
      response = await guard(() => attempt(authHeaders(auth, extra)));
    }
    if (response.status === 401) return rejectUnauthorized(response, auth);
    if (!response.ok) {
      const error = await problemFromResponse(response);
      if (error.status === 403 && error.code === 'MFA_REQUIRED') options.onMfaRequired?.(error);
      throw error;
    }
    return response;
  }

  function send(spec: RequestSpec): Promise<Response> {
    const url = buildUrl(options.baseUrl, spec.path, spec.query);
    const body = spec.json === undefined ? undefined : JSON.stringify(spec.json);
    const extra: Record<string, string> = { ...spec.headers };
    if (body !== undefined) extra['content-type'] = 'application/json';
    return execute(
      (headers) => fetchImpl(url, { method: spec.method, headers, body, signal: spec.signal ?? null }),
      spec.auth ?? true,
      extra,
    );
  }

  return {
    options,
    url: (path, query) => buildUrl(options.baseUrl, path, query),
    execute: (attempt, auth) => execute(attempt, auth),
    send,
    async json<T>(spec: RequestSpec): Promise<T> {
      const response = await send(spec);
      return (await response.json()) as T;
    },
    async empty(spec: RequestSpec): Promise<void> {
      const response = await send(spec);
      await response.body?.cancel();
    },
  };
}

/** Keeps AbortError as is (callers treat it as "cancelled"); wraps other failures. */
async function guard(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiNetworkError('The server could not be reached. Check your connection and try again.', { cause: error });
  }
}
