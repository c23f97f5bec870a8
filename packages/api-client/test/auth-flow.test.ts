import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ApiNetworkError, createApiClient } from '../src/index.ts';
import { sendJson, sendProblem, startTestServer } from './server.ts';

const user = {
  id: 'u1',
  username: 'acme',
  role: 'organization',
  status: 'active',
  publicKeyFingerprint: null,
  keyGeneratedAt: null,
  createdAt: '2025-01-01T00:00:00.000Z',
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('auth handling', () => {
  it('refreshes once on a session 401 and repeats the request with the new token', async () => {
    const server = await startTestServer((req, res) => {
      if (req.headers.authorization === 'Bearer fresh') sendJson(res, 200, { user });
      else sendProblem(res, 401, 'UNAUTHORIZED');
    });
    close = server.close;
    let token = 'stale';
    const refresh = vi.fn(async () => {
      token = 'fresh';
      return true;
    });
    const onUnauthorized = vi.fn();
    const client = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => token, refresh, onUnauthorized });

    await expect(client.auth.me()).resolves.toEqual({ user });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(server.requests[0]?.url).toBe('/api/v1/auth/me');
  });

  it('reports an unauthorized session when the refresh fails', async () => {
    const server = await startTestServer((_req, res) => sendProblem(res, 401, 'UNAUTHORIZED'));
    close = server.close;
    const onUnauthorized = vi.fn();
    const client = createApiClient({
      baseUrl: server.baseUrl,
      getAccessToken: () => 'stale',
      refresh: async () => false,
      onUnauthorized,
    });
    const error = await client.files.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(server.requests).toHaveLength(1);
  });

  it('never refreshes on a wrong password: that 401 judges the body, not the session', async () => {
    const server = await startTestServer((_req, res) => sendProblem(res, 401, 'WRONG_PASSWORD'));
    close = server.close;
    const refresh = vi.fn(async () => true);
    const onUnauthorized = vi.fn();
    const client = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => 't', refresh, onUnauthorized });
    const error = await client.accessRequests.download('r1', 'not-the-password').catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('WRONG_PASSWORD');
    expect(refresh).not.toHaveBeenCalled();
    expect(onUnauthorized).not.toHaveBeenCalled();
    // The password travelled in the JSON body, and nowhere in the URL.
    expect(server.requests[0]?.url).toBe('/api/v1/access-requests/r1/download');
    expect(JSON.parse(server.requests[0]?.body.toString() ?? '')).toEqual({ password: 'not-the-password' });
  });

  it('sends no bearer token and never refreshes on the token endpoints', async () => {
    const server = await startTestServer((_req, res) => sendProblem(res, 401, 'INVALID_CREDENTIALS'));
    close = server.close;
    const refresh = vi.fn(async () => true);
    const client = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => 'token', refresh });
    await expect(client.auth.login({ username: 'a', password: 'b' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(refresh).not.toHaveBeenCalled();
  });
});

describe('errors', () => {
  it('carries the problem, its field messages and Retry-After', async () => {
    const server = await startTestServer((req, res) => {
      if (req.url.endsWith('/register')) {
        sendProblem(res, 400, 'VALIDATION_FAILED', { fields: [{ name: 'body.password', message: 'must be at least 12 characters' }] });
      } else {
        sendProblem(res, 429, 'ACCOUNT_LOCKED', {}, { 'retry-after': '900' });
      }
    });
    close = server.close;
    const client = createApiClient({ baseUrl: server.baseUrl });
    const invalid = (await client.auth
      .register({ username: 'abc', password: 'short', role: 'consultant' })
      .catch((e: unknown) => e)) as ApiError;
    expect(invalid.code).toBe('VALIDATION_FAILED');
    expect(invalid.fieldMessage('password')).toBe('must be at least 12 characters');
    expect(invalid.fieldMessage('username')).toBeUndefined();
    const locked = (await client.auth.login({ username: 'abc', password: 'x' }).catch((e: unknown) => e)) as ApiError;
    expect(locked.code).toBe('ACCOUNT_LOCKED');
    expect(locked.retryAfter).toBe(900);
  });

  it('turns a non-problem answer into a readable ApiError with a code', async () => {
    const server = await startTestServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    });
    close = server.close;
    const client = createApiClient({ baseUrl: server.baseUrl });
    await expect(client.files.get('f1')).rejects.toMatchObject({ status: 502, code: 'SERVICE_UNAVAILABLE' });
  });

  it('wraps an unreachable server in ApiNetworkError', async () => {
    const server = await startTestServer(() => undefined);
    const baseUrl = server.baseUrl;
    await server.close();
    const client = createApiClient({ baseUrl });
    await expect(client.files.list()).rejects.toBeInstanceOf(ApiNetworkError);
  });

  it('keeps ids inside their path segment and drops empty query values', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 200, { items: [], nextCursor: null }));
    close = server.close;
    const client = createApiClient({ baseUrl: `${server.baseUrl}/` });
    await client.files.get('../admin/users');
    await client.files.list({ q: '', limit: 10, cursor: 'c 1' });
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/files/..%2Fadmin%2Fusers',
      '/api/v1/files?limit=10&cursor=c+1',
    ]);
  });
});
