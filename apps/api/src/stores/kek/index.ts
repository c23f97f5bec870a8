import type { KekSettings } from '../../config-backends.ts';
import { createLocalKekProvider } from './local-kek-provider.ts';
import type { KekProvider } from './kek-provider.ts';

export * from './kek-provider.ts';

export interface KekProviderConfig {
  kek: KekSettings;
  masterKey: string;
  masterKeyPrevious: readonly string[];
}

/** Opens the configured provider; the PKCS#11 binding is loaded only when it is the one configured. */
export async function openKekProvider(config: KekProviderConfig): Promise<KekProvider> {
  const settings = config.kek;
  if (settings.provider === 'pkcs11') {
    const { openPkcs11KekProvider } = await import('./pkcs11-kek-provider.ts');
    return openPkcs11KekProvider(settings);
  }
  return createLocalKekProvider(settings.provider, config.masterKey, config.masterKeyPrevious);
}
