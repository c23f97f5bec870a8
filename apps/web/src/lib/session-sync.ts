import type { TokenResponse } from '@sfe/contract';

/**
 * Keeps the tabs of one origin from spending the same refresh token twice.
 *
 * Refresh tokens live in each tab's own sessionStorage, so tabs the person opened
 * and signed in to separately hold separate sessions and never collide. A tab the
 * browser duplicated, or one opened from the app with window.open, starts with a
 * copy of the opener's sessionStorage: the same token. Whichever of the two refreshed
 * second used to present a spent token, and the API, taking that for theft, ended
 * the session in both. So:
 * - a Web Lock lets only one tab of the origin refresh at a time;
 * - the tab that traded a token announces the new pair on a BroadcastChannel, and a
 *   tab still holding the traded token takes the pair instead of refreshing;
 * - inside the lock, before refreshing, a tab asks whether another tab already traded
 *   its token (it may have been loaded after the announcement), and takes the answer.
 * Anything that can listen on the channel is a script of this origin, which could read
 * sessionStorage anyway; a tab only hands its tokens to one presenting a token it spent.
 */
export interface RefreshCoordinator {
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  ask(refreshToken: string): Promise<TokenResponse | null>;
  announce(previous: string, tokens: TokenResponse): void;
  /** `onRotated`: another tab traded `previous`; `answer`: our tokens for a token we spent, if any. */
  listen(handlers: { onRotated: (previous: string, tokens: TokenResponse) => void; answer: (refreshToken: string) => TokenResponse | null }): void;
}

type Message =
  | { type: 'rotated'; previous: string; tokens: TokenResponse }
  | { type: 'ask'; id: string; refreshToken: string }
  | { type: 'answer'; id: string; tokens: TokenResponse };

const LOCK = 'sfe.session.refresh';
/** How long a tab waits for another to say it already traded the token. */
const ASK_TIMEOUT_MS = 150;

/** Null where the browser lacks Web Locks or BroadcastChannel: each tab then refreshes on its own. */
export function createRefreshCoordinator(): RefreshCoordinator | null {
  if (typeof navigator === 'undefined' || !navigator.locks || typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel('sfe.session');
  const waiting = new Map<string, (tokens: TokenResponse) => void>();
  let handlers: Parameters<RefreshCoordinator['listen']>[0] | null = null;
  channel.onmessage = (event: MessageEvent<Message>) => {
    const message = event.data;
    if (message.type === 'rotated') handlers?.onRotated(message.previous, message.tokens);
    else if (message.type === 'answer') waiting.get(message.id)?.(message.tokens);
    else if (message.type === 'ask') {
      const tokens = handlers?.answer(message.refreshToken);
      if (tokens) channel.postMessage({ type: 'answer', id: message.id, tokens } satisfies Message);
    }
  };
  return {
    exclusive: async <T,>(task: () => Promise<T>) => {
      let result: { value: T } | null = null;
      await navigator.locks.request(LOCK, async () => {
        result = { value: await task() };
      });
      if (!result) throw new Error('the refresh lock was not granted');
      return (result as { value: T }).value;
    },
    ask: (refreshToken) =>
      new Promise((resolve) => {
        const id = crypto.randomUUID();
        const done = (tokens: TokenResponse | null) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(tokens);
        };
        const timer = setTimeout(() => done(null), ASK_TIMEOUT_MS);
        waiting.set(id, done);
        channel.postMessage({ type: 'ask', id, refreshToken } satisfies Message);
      }),
    announce: (previous, tokens) => channel.postMessage({ type: 'rotated', previous, tokens } satisfies Message),
    listen: (next) => {
      handlers = next;
    },
  };
}
