import type { KeyStore } from './key-store.ts';

/**
 * A key store that was unreachable at start-up. The API starts anyway (so /readyz can
 * say what is down and everything that needs no private key keeps working); each call
 * tries to open the real store again, one attempt at a time, and delegates once it is
 * open. Until then every call fails as the store would: KeyStoreUnavailableError.
 */
export function reconnectingKeyStore(kind: KeyStore['kind'], open: () => Promise<KeyStore>): KeyStore {
  let store: KeyStore | undefined;
  let opening: Promise<KeyStore> | undefined;
  let closed = false;
  const current = (): Promise<KeyStore> => {
    if (store) return Promise.resolve(store);
    if (closed) return Promise.reject(new Error('key store closed'));
    opening ??= open().then(
      (opened) => {
        store = opened;
        return opened;
      },
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    );
    return opening;
  };
  return {
    kind,
    insert: async (record) => (await current()).insert(record),
    get: async (userId) => (await current()).get(userId),
    recordAccess: async (userId) => (await current()).recordAccess(userId),
    replace: async (userId, expected, next) => (await current()).replace(userId, expected, next),
    delete: async (userId) => (await current()).delete(userId),
    async *listAll() {
      yield* (await current()).listAll();
    },
    restore: async (record) => (await current()).restore(record),
    ping: async () => (await current()).ping(),
    async close() {
      closed = true;
      const pending = store ?? (await opening?.catch(() => undefined));
      await pending?.close();
    },
  };
}
