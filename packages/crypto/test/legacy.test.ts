import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AlgorithmDisabledError,
  assertAlgorithmAvailable,
  createEncryptStream,
  generateDek,
} from '../src/index.ts';
import { decrypt } from './helpers/streams.ts';

const run = promisify(execFile);
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

interface ChildReport {
  roundTrip: boolean;
  failures: string[];
  disabledWithoutOptIn: boolean;
  expectedLength: number;
  length: number;
  dek: string;
  ciphertext: string;
}

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AlgorithmDisabledError);
    return (error as Error).message;
  }
  throw new Error('expected AlgorithmDisabledError');
}

describe('legacy ciphers', () => {
  it('are refused unless explicitly enabled', () => {
    for (const algorithm of ['des', 'rc4'] as const) {
      expect(messageOf(() => assertAlgorithmAvailable(algorithm, false))).toContain('enabled explicitly');
      expect(() => createEncryptStream(generateDek(), Buffer.from('f'), { algorithm })).toThrow(AlgorithmDisabledError);
    }
    expect(() => assertAlgorithmAvailable('aes-256-gcm', false)).not.toThrow();
  });

  it('are refused without the OpenSSL legacy provider even when enabled', () => {
    expect(process.execArgv).not.toContain('--openssl-legacy-provider');
    for (const algorithm of ['des', 'rc4'] as const) {
      expect(messageOf(() => assertAlgorithmAvailable(algorithm, true))).toContain('--openssl-legacy-provider');
    }
  });

  it('work with --openssl-legacy-provider and opt-in, sealed encrypt-then-MAC', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--openssl-legacy-provider', '--import', 'tsx', 'test/fixtures/legacy-roundtrip.ts'],
      { cwd: packageRoot },
    );
    const report = JSON.parse(stdout) as Record<'des' | 'rc4', ChildReport>;
    for (const algorithm of ['des', 'rc4'] as const) {
      const child = report[algorithm];
      expect(child.roundTrip).toBe(true);
      expect(child.failures).toEqual([]);
      expect(child.disabledWithoutOptIn).toBe(true);
      expect(child.length).toBe(child.expectedLength);
      // A legacy file reaching a process without the provider is a policy error, not a crypto one.
      const attempt = decrypt(Buffer.from(child.dek, 'hex'), Buffer.from('file:legacy'), Buffer.from(child.ciphertext, 'hex'), undefined, true);
      await expect(attempt).rejects.toThrow(AlgorithmDisabledError);
    }
  });
});
