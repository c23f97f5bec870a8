import type { ApiClient } from '@sfe/api-client';
import type { TokenResponse, User } from '@sfe/contract';
import { decodeJwt } from 'jose';
import type { RefreshCoordinator } from './session-sync.ts';

export type SessionState =
  | { status: 'loading' }
  /** `byUser`: the person signed out themselves, so there is no page to return to. */
  | { status: 'signed-out'; notice: string | null; byUser?: boolean }
  | { status: 'signed-in'; user: User };

export const SESSION_EXPIRED_NOTICE = 'Your session has expired. Please sign in again.';

/**
 * Where the refresh token lives, and why: sessionStorage survives a reload of the
 * tab (so a refresh does not sign the person out) but is not shared with other tabs
 * and disappears when the tab closes. It is readable by script, like any web
 * storage, so it is only as safe as the page is free of XSS; refresh tokens rotate
 * on every use and a reused one revokes its whole family, which bounds what a stolen
 * copy is worth. The access token stays in memory only and is never persisted.
 */
const REFRESH_KEY = 'sfe.refreshToken';
/** Refresh this long before the access token expires. */
const REFRESH_LEAD_MS = 30_000;

type TokenEndpoints = Pick<ApiClient['auth'], 'refresh' | 'logout'>;

export class Session {
  private state: SessionState = { status: 'loading' };
  private accessToken: string | null = null;
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<boolean> | null = null;
  private endpoints: TokenEndpoints | null = null;
  /** The tokens last applied, and the refresh tokens this tab traded for them (see session-sync.ts). */
  private current: TokenResponse | null = null;
  private readonly spent = new Set<string>();

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null,
    private readonly coordinator: RefreshCoordinator | null = null,
  ) {
    coordinator?.listen({
      onRotated: (previous, tokens) => {
        // A copy of this tab's session was refreshed elsewhere: take its tokens, never spend ours again.
        if (previous === this.storage?.getItem(REFRESH_KEY)) this.adopt(previous, tokens);
      },
      answer: (refreshToken) => (this.current && this.spent.has(refreshToken) ? this.current : null),
    });
  }

  /** Late binding: the API client needs this session for tokens, and the session needs the client. */
  connect(endpoints: TokenEndpoints): void {
    this.endpoints = endpoints;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): SessionState => this.state;
  readonly getAccessToken = (): string | null => this.accessToken;

  /** On page load: resume from a stored refresh token, if any. */
  async start(): Promise<void> {
    if (this.state.status !== 'loading') return;
    if (!this.storage?.getItem(REFRESH_KEY)) {
      this.set({ status: 'signed-out', notice: null });
      return;
    }
    if (!(await this.refresh()) && this.state.status === 'loading') this.set({ status: 'signed-out', notice: null });
  }

  signIn(tokens: TokenResponse): void {
    this.apply(tokens);
  }

  /** One refresh at a time: concurrent 401s share the same in-flight call. */
  readonly refresh = (): Promise<boolean> => {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  };

  /** The API refused our session: drop it and say so on the sign-in page. */
  readonly expire = (): void => {
    const wasSignedIn = this.state.status === 'signed-in';
    this.clear();
    this.set({ status: 'signed-out', notice: wasSignedIn ? SESSION_EXPIRED_NOTICE : null });
  };

  async signOut(): Promise<void> {
    const refreshToken = this.storage?.getItem(REFRESH_KEY);
    this.clear();
    this.set({ status: 'signed-out', notice: null, byUser: true });
    // Best effort: the local session is gone either way.
    if (refreshToken && this.endpoints) await this.endpoints.logout(refreshToken).catch(() => undefined);
  }

  updateUser(user: User): void {
    if (this.state.status === 'signed-in') this.set({ status: 'signed-in', user });
  }

  private doRefresh(): Promise<boolean> {
    const before = this.accessToken;
    return this.coordinator ? this.coordinator.exclusive(() => this.refreshAlone(before)) : this.refreshAlone(before);
  }

  /** Runs while no other tab of the origin refreshes. */
  private async refreshAlone(before: string | null): Promise<boolean> {
    // Another tab handed us fresh tokens while we waited for the lock.
    if (this.accessToken && this.accessToken !== before) return true;
    const refreshToken = this.storage?.getItem(REFRESH_KEY);
    if (!refreshToken || !this.endpoints) return false;
    const handed = await this.coordinator?.ask(refreshToken);
    if (handed) {
      this.adopt(refreshToken, handed);
      return true;
    }
    try {
      const tokens = await this.endpoints.refresh(refreshToken);
      this.adopt(refreshToken, tokens);
      this.coordinator?.announce(refreshToken, tokens);
      return true;
    } catch {
      this.clear();
      return false;
    }
  }

  private adopt(previous: string, tokens: TokenResponse): void {
    this.spent.add(previous);
    this.apply(tokens);
  }

  private apply(tokens: TokenResponse): void {
    this.current = tokens;
    this.accessToken = tokens.accessToken;
    this.storage?.setItem(REFRESH_KEY, tokens.refreshToken);
    this.schedule(tokens);
    this.set({ status: 'signed-in', user: tokens.user });
  }

  private schedule(tokens: TokenResponse): void {
    clearTimeout(this.timer);
    let expiresAtMs = Date.now() + tokens.expiresIn * 1000;
    try {
      const { exp } = decodeJwt(tokens.accessToken);
      if (typeof exp === 'number') expiresAtMs = exp * 1000;
    } catch {
      // Not a JWT we can read: fall back to expiresIn.
    }
    // Never more often than every half lifetime, so very short-lived tokens do not
    // turn into a refresh storm (and into the API's rate limit).
    const delay = Math.max(5_000, (tokens.expiresIn * 1000) / 2, expiresAtMs - Date.now() - REFRESH_LEAD_MS);
    this.timer = setTimeout(() => {
      void this.refresh().then((ok) => {
        if (!ok) this.expire();
      });
    }, delay);
  }

  private clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.accessToken = null;
    this.current = null;
    this.spent.clear();
    this.storage?.removeItem(REFRESH_KEY);
  }

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}
