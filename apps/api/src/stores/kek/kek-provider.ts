import type { KekRing } from '@sfe/crypto';

/**
 * Where the KEK ring comes from. The ring is what the services use (wrapDek,
 * unwrapDek from @sfe/crypto); a provider only decides where the key material is
 * and whether it ever enters this process:
 *
 *   env     MASTER_KEY / MASTER_KEY_PREVIOUS, in process memory
 *   file    MASTER_KEY_FILE / MASTER_KEY_PREVIOUS_FILE (mode 0600), in process memory
 *   pkcs11  a non-extractable AES-256 key in an HSM; every wrap and unwrap is an
 *           AES-GCM operation inside the token, the key never leaves it
 */
export type KekProviderKind = 'env' | 'file' | 'pkcs11';

/** What may be written down about a key (a backup manifest, a log line): never key material. */
export interface KekKeyReference {
  keyId: string;
  provider: KekProviderKind;
  /** The HSM key's label (CKA_LABEL) for pkcs11. */
  label?: string;
  active: boolean;
}

export interface KekProvider {
  readonly kind: KekProviderKind;
  readonly ring: KekRing;
  /** Every key of the ring, active first. */
  references(): KekKeyReference[];
  close(): Promise<void>;
}

/** The HSM could not be reached or refused us (not: a DEK that does not authenticate). */
export class KekProviderUnavailableError extends Error {
  readonly code = 'KEK_PROVIDER_UNAVAILABLE';

  constructor(message: string) {
    super(message);
    this.name = 'KekProviderUnavailableError';
  }
}
