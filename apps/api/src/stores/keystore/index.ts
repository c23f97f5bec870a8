import { join } from 'node:path';
import { openEmbeddedKeyStore } from './embedded-key-store.ts';
import { KeyStoreUnavailableError, type KeyStore } from './key-store.ts';
import { reconnectingKeyStore } from './reconnecting-key-store.ts';

export * from './key-store.ts';
export { openEmbeddedKeyStore } from './embedded-key-store.ts';
export type { MongoKeyStoreOptions } from './mongo-key-store.ts';

export interface KeyStoreConfig {
  /** Selects the MongoDB backend when set; otherwise the embedded file is used. */
  mongodbUri?: string;
  dataDir: string;
  serverSelectionTimeoutMS?: number;
}

export const EMBEDDED_KEY_STORE_FILE = 'keystore.db';

export async function openKeyStore(config: KeyStoreConfig): Promise<KeyStore> {
  if (config.mongodbUri !== undefined && config.mongodbUri !== '') {
    // Loaded only when selected: the driver costs ~20 MiB of memory the embedded store never needs.
    const { openMongoKeyStore } = await import('./mongo-key-store.ts');
    const uri = config.mongodbUri;
    const open = () =>
      openMongoKeyStore(uri, config.serverSelectionTimeoutMS === undefined ? {} : { serverSelectionTimeoutMS: config.serverSelectionTimeoutMS });
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof KeyStoreUnavailableError)) throw error;
      return reconnectingKeyStore('mongodb', open);
    }
  }
  return openEmbeddedKeyStore(join(config.dataDir, EMBEDDED_KEY_STORE_FILE));
}
