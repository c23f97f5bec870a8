import { KeyStoreUnavailableError } from '../../stores/keystore/index.ts';
import { keyStoreUnavailable } from '../../lib/errors.ts';

/** Runs a key store call, turning "unreachable" into the API's 503 problem. */
export async function withKeyStore<T>(call: () => Promise<T>, onUnavailable?: () => void): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof KeyStoreUnavailableError) {
      onUnavailable?.();
      throw keyStoreUnavailable();
    }
    throw error;
  }
}
