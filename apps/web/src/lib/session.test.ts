import type { TokenResponse } from '@sfe/contract';
import { UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SESSION_EXPIRED_NOTICE, Session } from './session.ts';
import { testUser } from '../testing/render.tsx';

function tokens(n: number, expiresInSeconds = 900): TokenResponse {
  // The SPA only reads `exp` (decodeJwt); the signature is the API's business.
  const accessToken = new UnsecuredJWT({ sub: 'u' }).setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds).encode();
  return { accessToken, refreshToken: `refresh-${n}`, tokenType: 'Bearer', expiresIn: expiresInSeconds, user: testUser('consultant') };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Session', () => {
  it('keeps the access token in memory and only the refresh token in sessionStorage', async () => {
    const session = new Session(sessionStorage);
    const t = tokens(1);
    session.signIn(t);
    expect(session.getAccessToken()).toBe(t.accessToken);
    expect(sessionStorage.getItem('sfe.refreshToken')).toBe('refresh-1');
    const stored = Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.getItem(sessionStorage.key(i) ?? ''));
    expect(stored.join()).not.toContain(t.accessToken);
    expect(localStorage.length).toBe(0);
  });

  it('shares one refresh between concurrent callers and rotates the stored token', async () => {
    const session = new Session(sessionStorage);
    session.signIn(tokens(1));
    const next = tokens(2);
    const refresh = vi.fn(async (token: string) => {
      expect(token).toBe('refresh-1');
      return next;
    });
    session.connect({ refresh, logout: async () => undefined });
    const results = await Promise.all([session.refresh(), session.refresh(), session.refresh()]);
    expect(results).toEqual([true, true, true]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(sessionStorage.getItem('sfe.refreshToken')).toBe('refresh-2');
    expect(session.getAccessToken()).toBe(next.accessToken);
  });

  it('refreshes silently ahead of expiry, read from the JWT exp', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const session = new Session(sessionStorage);
    const first = tokens(1, 120);
    const refresh = vi.fn(async () => tokens(2, 120));
    session.connect({ refresh, logout: async () => undefined });
    session.signIn(first);
    await vi.advanceTimersByTimeAsync(80_000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(15_000); // 95 s: within 30 s of the 120 s expiry
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(session.getState().status).toBe('signed-in');
  });

  it('ends an expired session with the notice, and a failed resume without one', async () => {
    const session = new Session(sessionStorage);
    session.connect({ refresh: () => Promise.reject(new Error('401')), logout: async () => undefined });
    session.signIn(tokens(1));
    expect(await session.refresh()).toBe(false);
    session.expire();
    expect(session.getState()).toEqual({ status: 'signed-out', notice: SESSION_EXPIRED_NOTICE });
    expect(session.getAccessToken()).toBeNull();
    expect(sessionStorage.getItem('sfe.refreshToken')).toBeNull();

    sessionStorage.setItem('sfe.refreshToken', 'stale');
    const resumed = new Session(sessionStorage);
    resumed.connect({ refresh: () => Promise.reject(new Error('401')), logout: async () => undefined });
    await resumed.start();
    expect(resumed.getState()).toEqual({ status: 'signed-out', notice: null });
  });

  it('signs out locally even when the server cannot be told', async () => {
    const session = new Session(sessionStorage);
    const logout = vi.fn(() => Promise.reject(new Error('offline')));
    session.connect({ refresh: async () => tokens(9), logout });
    session.signIn(tokens(1));
    await session.signOut();
    expect(logout).toHaveBeenCalledWith('refresh-1');
    expect(session.getState()).toEqual({ status: 'signed-out', notice: null, byUser: true });
    expect(sessionStorage.getItem('sfe.refreshToken')).toBeNull();
  });
});
