import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { keyMaterialOf, openEmbeddedKeyStore, openKeyStore } from '../../src/stores/keystore/index.ts';
import { keyStoreContract, newRecord } from './key-store.contract.ts';

let baseDir: string;
let counter = 0;

beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), 'sfe-keystore-'));
});

afterAll(async () => {
  await rm(baseDir, { recursive: true, force: true });
});

function freshDataDir(group = 'other'): string {
  counter += 1;
  return join(baseDir, group, `data-${counter}`);
}

keyStoreContract(
  'embedded',
  async () => openKeyStore({ dataDir: freshDataDir('contract') }),
  async () => {
    await rm(join(baseDir, 'contract'), { recursive: true, force: true });
  },
);

describe('embedded key store', () => {
  it('is the default and lives in DATA_DIR/keystore.db, readable by the owner only', async () => {
    const dataDir = freshDataDir();
    const store = await openKeyStore({ dataDir });
    try {
      expect(store.kind).toBe('embedded');
      await store.insert(newRecord());
      for (const file of ['keystore.db', 'keystore.db-wal']) {
        expect((await stat(join(dataDir, file))).mode & 0o777, file).toBe(0o600);
      }
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    } finally {
      await store.close();
    }
  });

  it('keeps records across a reopen of the file', async () => {
    const file = join(freshDataDir(), 'keys.db');
    const record = newRecord();
    const first = await openEmbeddedKeyStore(file);
    await first.insert(record);
    await first.recordAccess(record.userId);
    await first.close();

    const second = await openEmbeddedKeyStore(file);
    try {
      const stored = await second.get(record.userId);
      expect(stored?.encryptedPrivateKey.equals(record.encryptedPrivateKey)).toBe(true);
      expect(stored?.accessCount).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('upgrades a file made before the previous-key slot: records kept, the slot usable', async () => {
    const file = join(freshDataDir(), 'keys.db');
    const record = newRecord();
    const first = await openEmbeddedKeyStore(file);
    await first.insert(record);
    await first.close();
    const raw = new Database(file);
    raw.exec('ALTER TABLE private_keys DROP COLUMN previous');
    raw.close();

    const second = await openEmbeddedKeyStore(file);
    try {
      const stored = await second.get(record.userId);
      expect(stored?.encryptedPrivateKey.equals(record.encryptedPrivateKey)).toBe(true);
      expect(stored?.previous).toBeNull();
      const next = newRecord({ userId: record.userId, previous: keyMaterialOf(record) });
      expect(await second.replace(record.userId, record, next)).toBe(true);
      expect((await second.get(record.userId))?.previous?.salt.equals(record.salt)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('counts accesses from two connections to one file (two API processes) without losing any', async () => {
    const file = join(freshDataDir(), 'keys.db');
    const a = await openEmbeddedKeyStore(file);
    const b = await openEmbeddedKeyStore(file);
    try {
      const record = newRecord();
      await a.insert(record);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).recordAccess(record.userId)));
      expect(new Set(results.map((r) => r?.accessCount)).size).toBe(10);
      expect((await b.get(record.userId))?.accessCount).toBe(10);
      await expect(b.insert(newRecord({ userId: record.userId }))).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('tightens the mode of an existing, too-open file', async () => {
    const dataDir = freshDataDir();
    const first = await openKeyStore({ dataDir });
    await first.close();
    await chmod(join(dataDir, 'keystore.db'), 0o644);
    const second = await openKeyStore({ dataDir });
    await second.close();
    expect((await stat(join(dataDir, 'keystore.db'))).mode & 0o777).toBe(0o600);
  });
});
