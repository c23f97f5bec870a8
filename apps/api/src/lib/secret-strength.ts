import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

/**
 * Strength rules for the server's own secrets (MASTER_KEY, JWT_SECRET). A secret that
 * passes the length check can still be typed by hand ("aaaa...", "password" x 4,
 * "0123456789abcdef" x 4): each rule below names what is wrong without echoing it.
 */
// The estimator's ranked dictionaries take ~4 MiB of heap and are needed only while the
// configuration is checked at start-up: held weakly, the checks of one synchronous
// loadConfig share one (a WeakRef's target lives at least until the job ends), and the
// serving process does not keep it.
let estimator: WeakRef<ZxcvbnFactory> | undefined;
function zxcvbn(): ZxcvbnFactory {
  const live = estimator?.deref();
  if (live !== undefined) return live;
  const fresh = new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
  estimator = new WeakRef(fresh);
  return fresh;
}

/** About 100 bits: what zxcvbn grants 30 random hex digits or 20 random base64 characters. */
export const MIN_GUESSES_LOG10 = 30;

/** The shortest period p < length such that the sequence repeats itself every p items, or null. */
export function repeatingPeriod(items: ArrayLike<number>): number | null {
  const n = items.length;
  for (let p = 1; p <= n / 2; p++) {
    let repeats = true;
    for (let i = p; i < n && repeats; i++) repeats = items[i] === items[i - p];
    if (repeats) return p;
  }
  return null;
}

/** The first rule `secret` breaks, as a sentence fragment, or null when it is acceptable. */
export function weakSecretReason(secret: Buffer, text: string, minDistinct: number): string | null {
  const distinct = new Set(secret).size;
  if (distinct < minDistinct) return `has too few distinct bytes (${distinct}, at least ${minDistinct} needed)`;
  const period = repeatingPeriod(secret);
  if (period !== null) return `repeats a pattern of ${period} byte(s)`;
  const { guessesLog10 } = zxcvbn().check(text.slice(0, 256));
  if (guessesLog10 < MIN_GUESSES_LOG10) {
    return `is too easy to guess (estimated ${Math.floor(guessesLog10 * 3.32)} bits, at least ${Math.ceil(MIN_GUESSES_LOG10 * 3.32)} needed)`;
  }
  return null;
}
