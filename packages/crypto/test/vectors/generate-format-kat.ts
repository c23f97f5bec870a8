/**
 * Regenerates the FORMAT.md known-answer files. Deterministic: the header
 * randomness is fixed through the internal seam. Run from packages/crypto:
 *   npx tsx test/vectors/generate-format-kat.ts
 */
import { writeFileSync } from 'node:fs';
import { MODERN_ALGORITHMS } from '../../src/index.ts';
import { katCiphertext, KAT, katPath } from './format-kat.ts';

for (const algorithm of MODERN_ALGORITHMS) {
  writeFileSync(katPath(algorithm), await katCiphertext(algorithm));
}
writeFileSync(new URL('./format-kat.json', import.meta.url), `${JSON.stringify(KAT, null, 2)}\n`);
