/**
 * File algorithms and the policy gate in front of the legacy ones.
 */
import { createCipheriv } from 'node:crypto';
import { AlgorithmDisabledError } from './errors.ts';

export type FileAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305' | 'des' | 'rc4';
export type LegacyAlgorithm = 'des' | 'rc4';

export const MODERN_ALGORITHMS: readonly FileAlgorithm[] = Object.freeze([
  'aes-256-gcm',
  'chacha20-poly1305',
] as const);

export const LEGACY_ALGORITHMS: readonly LegacyAlgorithm[] = Object.freeze(['des', 'rc4'] as const);

/**
 * Header ids. The legacy ids sit several bits away from the modern ones so a
 * single flipped header bit never turns a modern file into a legacy one.
 */
const IDS: Readonly<Record<FileAlgorithm, number>> = Object.freeze({
  'aes-256-gcm': 0x01,
  'chacha20-poly1305': 0x02,
  des: 0x71,
  rc4: 0x72,
});

export function algorithmId(algorithm: FileAlgorithm): number {
  return IDS[algorithm];
}

export function algorithmFromId(id: number): FileAlgorithm | undefined {
  for (const [name, value] of Object.entries(IDS)) {
    if (value === id) return name as FileAlgorithm;
  }
  return undefined;
}

export function isFileAlgorithm(value: unknown): value is FileAlgorithm {
  return typeof value === 'string' && Object.hasOwn(IDS, value);
}

export function isLegacyAlgorithm(algorithm: FileAlgorithm): algorithm is LegacyAlgorithm {
  return algorithm === 'des' || algorithm === 'rc4';
}

/** OpenSSL cipher names used for the legacy modes (see FORMAT.md). */
export const LEGACY_CIPHER_NAMES: Readonly<Record<LegacyAlgorithm, string>> = Object.freeze({
  des: 'des-cfb',
  rc4: 'rc4',
});

const providerProbe = new Map<LegacyAlgorithm, boolean>();

/** True when the running OpenSSL can instantiate the legacy cipher at all. */
export function legacyProviderLoaded(algorithm: LegacyAlgorithm): boolean {
  let loaded = providerProbe.get(algorithm);
  if (loaded === undefined) {
    try {
      const keyLength = algorithm === 'des' ? 8 : 16;
      const iv = algorithm === 'des' ? Buffer.alloc(8) : null;
      createCipheriv(LEGACY_CIPHER_NAMES[algorithm], Buffer.alloc(keyLength), iv);
      loaded = true;
    } catch {
      loaded = false;
    }
    providerProbe.set(algorithm, loaded);
  }
  return loaded;
}

export function assertAlgorithmAvailable(algorithm: FileAlgorithm, allowLegacy: boolean): void {
  if (!isFileAlgorithm(algorithm)) {
    throw new AlgorithmDisabledError('unknown file algorithm');
  }
  if (!isLegacyAlgorithm(algorithm)) return;
  if (!allowLegacy) {
    throw new AlgorithmDisabledError(
      `legacy cipher ${algorithm} is disabled; it must be enabled explicitly (ALLOW_LEGACY_CIPHERS=true)`,
    );
  }
  if (!legacyProviderLoaded(algorithm)) {
    throw new AlgorithmDisabledError(
      `legacy cipher ${algorithm} needs the OpenSSL legacy provider; start Node with --openssl-legacy-provider`,
    );
  }
}
