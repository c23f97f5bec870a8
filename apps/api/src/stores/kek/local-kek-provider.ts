import { createKekRing, parseKek } from '@sfe/crypto';
import type { KekProvider } from './kek-provider.ts';

/** env and file: the keys are already in the configuration as hex (config.ts read MASTER_KEY_FILE). */
export function createLocalKekProvider(kind: 'env' | 'file', active: string, previous: readonly string[]): KekProvider {
  const activeKey = parseKek(active);
  const previousKeys = previous.map(parseKek);
  const ring = createKekRing(activeKey, previousKeys);
  // createKekRing keeps its own copies.
  for (const key of [activeKey, ...previousKeys]) key.fill(0);
  return {
    kind,
    ring,
    references: () => ring.keyIds().map((keyId) => ({ keyId, provider: kind, active: keyId === ring.activeKeyId })),
    close: async () => {},
  };
}
