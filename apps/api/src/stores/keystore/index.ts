import { join } from 'node:path';
import { openEmbeddedKeyStore } from './embedded-key-store.ts';
import type { KeyStore } from './key-store.ts';
import { openMongoKeyStore } from './mongo-key-store.ts';

export * from './key-store.ts';
export { openEmbeddedKeyStore } from './embedded-key-store.ts';
export { openMongoKeyStore, type MongoKeyStoreOptions } from './mongo-key-store.ts';

export interface KeyStoreConfig {
  /** Selects the MongoDB backend when set; otherwise the embedded file is used. */
  mongodbUri?: string;
  dataDir: string;
  serverSelectionTimeoutMS?: number;
}

export const EMBEDDED_KEY_STORE_FILE = 'keystore.db';

export function openKeyStore(config: KeyStoreConfig): Promise<KeyStore> {
  if (config.mongodbUri !== undefined && config.mongodbUri !== '') {
    return openMongoKeyStore(
      config.mongodbUri,
      config.serverSelectionTimeoutMS === undefined ? {} : { serverSelectionTimeoutMS: config.serverSelectionTimeoutMS },
    );
  }
  return openEmbeddedKeyStore(join(config.dataDir, EMBEDDED_KEY_STORE_FILE));
}
