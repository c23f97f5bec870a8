import { readFileSync } from 'node:fs';

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadVectors(name: string): WycheproofFile {
  const url = new URL(`../vectors/wycheproof/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as WycheproofFile;
}

export function hex(value: unknown): Buffer {
  if (typeof value !== 'string') throw new TypeError('expected a hex string in the vector file');
  return Buffer.from(value, 'hex');
}

/** Counts of vectors run and filtered out, printed so a silent skip is visible. */
export class VectorTally {
  run = 0;
  valid = 0;
  invalid = 0;
  readonly filtered = new Map<string, number>();

  constructor(readonly name: string) {}

  filter(reason: string): void {
    this.filtered.set(reason, (this.filtered.get(reason) ?? 0) + 1);
  }

  count(result: WycheproofTest['result']): void {
    this.run += 1;
    if (result === 'valid') this.valid += 1;
    else this.invalid += 1;
  }

  report(): string {
    const filtered = [...this.filtered].map(([reason, n]) => `${reason}: ${n}`).join(', ') || 'none';
    return `${this.name}: ran ${this.run} (valid ${this.valid}, invalid ${this.invalid}); filtered ${filtered}`;
  }
}
