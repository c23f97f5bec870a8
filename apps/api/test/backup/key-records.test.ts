import { describe, expect, it } from 'vitest';
import { ArchiveFormatError } from '../../src/modules/backup/backup.errors.ts';
import { parseKeyRecord, serializeKeyRecord } from '../../src/modules/backup/key-records.ts';
import { keyMaterialOf, type PrivateKeyRecord } from '../../src/stores/keystore/index.ts';
import { newRecord } from '../stores/key-store.contract.ts';

const full = (overrides: Partial<PrivateKeyRecord> = {}): PrivateKeyRecord => ({
  ...newRecord(),
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  lastAccessed: null,
  accessCount: 3,
  ...overrides,
});

describe('backup key store lines', () => {
  it('round-trip a record with and without the previous key slot, byte for byte', () => {
    for (const record of [full(), full({ previous: keyMaterialOf(newRecord()), lastAccessed: new Date('2026-02-03T00:00:00.000Z') })]) {
      const line = serializeKeyRecord(record);
      expect(line.endsWith('\n')).toBe(true);
      expect(parseKeyRecord(line.trimEnd())).toEqual(record);
    }
  });

  it('read lines written before the previous slot existed as having none', () => {
    const record = full();
    const { previous: _previous, ...old } = JSON.parse(serializeKeyRecord(record)) as Record<string, unknown>;
    expect(parseKeyRecord(JSON.stringify(old))).toEqual({ ...record, previous: null });
  });

  it('refuse a malformed previous slot', () => {
    const line = JSON.parse(serializeKeyRecord(full({ previous: keyMaterialOf(newRecord()) }))) as Record<string, Record<string, unknown>>;
    const broken = [
      { ...line, previous: { ...line.previous, salt: '***' } },
      { ...line, previous: { ...line.previous, extra: 1 } },
      { ...line, previous: { ...line.previous, algorithm: 'RSA-1024' } },
      { ...line, previous: 'x' },
    ];
    for (const value of broken) expect(() => parseKeyRecord(JSON.stringify(value))).toThrow(ArchiveFormatError);
  });
});
