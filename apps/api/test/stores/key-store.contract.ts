import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KeyStoreConflictError,
  KeyStoreUnavailableError,
  keyMaterialOf,
  keySlot,
  type KeyMaterial,
  type KeyStore,
  type NewPrivateKeyRecord,
  type PrivateKeyRecord,
} from '../../src/stores/keystore/index.ts';

// The behaviour every KeyStore backend must share. Each runner file passes an
// `open` that returns a store over a fresh, empty namespace.

let userCounter = 0;

export function newRecord(overrides: Partial<NewPrivateKeyRecord> = {}): NewPrivateKeyRecord & { previous: KeyMaterial | null } {
  userCounter += 1;
  return {
    userId: `user-${userCounter}-${randomBytes(4).toString('hex')}`,
    // Random bytes include 0x00 and 0xff and odd lengths: no text codec survives them.
    encryptedPrivateKey: randomBytes(1217),
    salt: randomBytes(16),
    nonce: randomBytes(12),
    cipher: 'aes-256-gcm',
    kdf: 'pbkdf2-sha256',
    iterations: 600_000,
    algorithm: 'RSA-2048',
    fingerprint: randomBytes(32).toString('hex'),
    previous: null,
    ...overrides,
  };
}

function expectMaterial(actual: KeyMaterial | null | undefined, expected: KeyMaterial): void {
  expect(actual).toBeTruthy();
  const key = actual as KeyMaterial;
  for (const field of ['encryptedPrivateKey', 'salt', 'nonce'] as const) {
    expect(Buffer.isBuffer(key[field]), field).toBe(true);
    expect(key[field].equals(expected[field]), field).toBe(true);
  }
  expect(keyMaterialOf({ userId: 'x', ...key })).toEqual(keyMaterialOf({ userId: 'x', ...expected }));
}

async function listAll(store: KeyStore): Promise<PrivateKeyRecord[]> {
  const records: PrivateKeyRecord[] = [];
  for await (const record of store.listAll()) records.push(record);
  return records;
}

function expectKeyFields(actual: PrivateKeyRecord | null, expected: NewPrivateKeyRecord): PrivateKeyRecord {
  expect(actual).not.toBeNull();
  const record = actual as PrivateKeyRecord;
  for (const field of ['encryptedPrivateKey', 'salt', 'nonce'] as const) {
    expect(Buffer.isBuffer(record[field]), field).toBe(true);
    expect(record[field].equals(expected[field]), field).toBe(true);
  }
  const { userId, cipher, kdf, iterations, algorithm, fingerprint } = record;
  expect({ userId, cipher, kdf, iterations, algorithm, fingerprint }).toEqual({
    userId: expected.userId,
    cipher: expected.cipher,
    kdf: expected.kdf,
    iterations: expected.iterations,
    algorithm: expected.algorithm,
    fingerprint: expected.fingerprint,
  });
  expect(record.createdAt).toBeInstanceOf(Date);
  return record;
}

export function keyStoreContract(
  name: string,
  open: () => Promise<KeyStore>,
  cleanup: () => Promise<void>,
): void {
  describe(`KeyStore contract: ${name}`, () => {
    let store: KeyStore;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(cleanup);

    it('inserts and gets a record with byte-exact buffers and real dates', async () => {
      const record = newRecord({ algorithm: 'RSA-4096', iterations: 1_000_000 });
      const before = Date.now();
      await store.insert(record);
      const stored = expectKeyFields(await store.get(record.userId), record);
      expect(stored.createdAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(stored.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect(stored.lastAccessed).toBeNull();
      expect(stored.accessCount).toBe(0);
    });

    it('keeps one record per user: a second insert conflicts and changes nothing', async () => {
      const first = newRecord();
      await store.insert(first);
      const second = newRecord({ userId: first.userId });
      const error: unknown = await store.insert(second).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreConflictError);
      expect(error).toMatchObject({ code: 'CONFLICT' });
      expectKeyFields(await store.get(first.userId), first);
    });

    it('keeps users apart', async () => {
      const a = newRecord();
      const b = newRecord();
      await store.insert(a);
      await store.insert(b);
      await store.recordAccess(a.userId);
      expectKeyFields(await store.get(a.userId), a);
      const other = expectKeyFields(await store.get(b.userId), b);
      expect(other.accessCount).toBe(0);
    });

    it('answers null or false for an unknown user', async () => {
      const missing = newRecord();
      expect(await store.get(missing.userId)).toBeNull();
      expect(await store.recordAccess(missing.userId)).toBeNull();
      expect(await store.replace(missing.userId, missing, missing)).toBe(false);
      expect(await store.delete(missing.userId)).toBe(false);
      expect(await store.get(missing.userId)).toBeNull();
    });

    it('does not count get() as an access', async () => {
      const record = newRecord();
      await store.insert(record);
      await store.get(record.userId);
      const stored = await store.get(record.userId);
      expect(stored?.accessCount).toBe(0);
      expect(stored?.lastAccessed).toBeNull();
    });

    it('counts 20 concurrent accesses atomically', async () => {
      const record = newRecord();
      await store.insert(record);
      const before = Date.now();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.recordAccess(record.userId)));
      const counts = results.map((result) => result?.accessCount);
      expect([...counts].sort((x = 0, y = 0) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      for (const result of results) {
        expectKeyFields(result, record);
        expect(result?.lastAccessed).toBeInstanceOf(Date);
        expect(result?.lastAccessed?.getTime()).toBeGreaterThanOrEqual(before);
      }
      const stored = await store.get(record.userId);
      expect(stored?.accessCount).toBe(20);
      expect(stored?.lastAccessed).toBeInstanceOf(Date);
    });

    it('re-encrypts under a new password: same fingerprint keeps dates and counts', async () => {
      const record = newRecord();
      await store.insert(record);
      await store.recordAccess(record.userId);
      const accessed = await store.recordAccess(record.userId);
      const next = newRecord({ userId: record.userId, fingerprint: record.fingerprint, iterations: 700_000 });

      expect(await store.replace(record.userId, record, next)).toBe(true);
      const stored = expectKeyFields(await store.get(record.userId), next);
      const original = expectKeyFields(accessed, record);
      expect(stored.createdAt.getTime()).toBe(original.createdAt.getTime());
      expect(stored.lastAccessed?.getTime()).toBe(original.lastAccessed?.getTime());
      expect(stored.accessCount).toBe(2);
    });

    it('rotates to a new key: a new fingerprint restarts createdAt, lastAccessed and accessCount', async () => {
      const record = newRecord();
      await store.insert(record);
      await store.recordAccess(record.userId);
      const next = newRecord({ userId: record.userId, algorithm: 'RSA-4096' });
      const before = Date.now();

      expect(await store.replace(record.userId, record, next)).toBe(true);
      const stored = expectKeyFields(await store.get(record.userId), next);
      expect(stored.createdAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(stored.lastAccessed).toBeNull();
      expect(stored.accessCount).toBe(0);
    });

    it('keeps the previous key pair while a rotation is unfinished, byte-exact, until a replace drops it', async () => {
      const record = newRecord();
      await store.insert(record);
      expect((await store.get(record.userId))?.previous).toBeNull();
      const next = newRecord({ userId: record.userId, previous: keyMaterialOf(record) });

      expect(await store.replace(record.userId, record, next)).toBe(true);
      const rotated = expectKeyFields(await store.get(record.userId), next);
      expectMaterial(rotated.previous, keyMaterialOf(record));
      expectMaterial(keySlot(rotated, record.fingerprint), keyMaterialOf(record));
      expectMaterial(keySlot(rotated, next.fingerprint), keyMaterialOf(next));
      expect(keySlot(rotated, 'no-such-key')).toBeNull();
      await store.recordAccess(record.userId);
      expectMaterial((await store.recordAccess(record.userId))?.previous, keyMaterialOf(record));

      // The rotation committed: the same key again, without the previous one; counters kept.
      expect(await store.replace(record.userId, next, { ...next, previous: null })).toBe(true);
      const settled = expectKeyFields(await store.get(record.userId), next);
      expect(settled.previous).toBeNull();
      expect(settled.accessCount).toBe(2);
    });

    it('rolls a rotation back exactly: the old record, previous slot included', async () => {
      const older = newRecord();
      const record = newRecord({ previous: keyMaterialOf(older) });
      await store.insert(record);
      const next = newRecord({ userId: record.userId, previous: keyMaterialOf(record) });
      expect(await store.replace(record.userId, record, next)).toBe(true);
      expect(await store.replace(record.userId, next, record)).toBe(true);
      const back = expectKeyFields(await store.get(record.userId), record);
      expectMaterial(back.previous, keyMaterialOf(older));
    });

    it('a replace that names no previous key drops the stored one', async () => {
      const record = newRecord();
      const { previous: _none, ...withoutPrevious } = newRecord({ userId: record.userId });
      await store.insert({ ...record, previous: keyMaterialOf(newRecord()) });
      expect(await store.replace(record.userId, record, withoutPrevious)).toBe(true);
      expect((await store.get(record.userId))?.previous).toBeNull();
    });

    it('lists and restores the previous slot', async () => {
      const record = newRecord({ previous: keyMaterialOf(newRecord()) });
      await store.insert(record);
      const [listed] = await listAll(store);
      expectMaterial(listed?.previous, record.previous as KeyMaterial);
      expect(await store.delete(record.userId)).toBe(true);
      await store.restore(listed as PrivateKeyRecord);
      expectMaterial((await store.get(record.userId))?.previous, record.previous as KeyMaterial);
    });

    it('refuses a malformed previous slot, or one naming the current key', async () => {
      const record = newRecord();
      await expect(store.insert({ ...record, previous: { ...keyMaterialOf(newRecord()), salt: Buffer.alloc(0) } })).rejects.toBeInstanceOf(TypeError);
      await expect(store.insert({ ...record, previous: { ...keyMaterialOf(newRecord()), fingerprint: { $ne: 1 } as unknown as string } })).rejects.toBeInstanceOf(TypeError);
      await expect(store.insert({ ...record, previous: keyMaterialOf(record) })).rejects.toBeInstanceOf(TypeError);
      await store.insert(record);
      await expect(store.replace(record.userId, record, { ...record, previous: keyMaterialOf(record) })).rejects.toBeInstanceOf(TypeError);
      expect((await store.get(record.userId))?.previous).toBeNull();
    });

    it('refuses a replace whose expected fingerprint is not the stored one', async () => {
      const record = newRecord();
      await store.insert(record);
      const next = newRecord({ userId: record.userId });
      expect(await store.replace(record.userId, next, next)).toBe(false);
      expect(await store.replace(record.userId, { fingerprint: 'not-the-fingerprint', salt: record.salt }, next)).toBe(false);
      // Right fingerprint, another version (salt): e.g. a password change got there first.
      expect(await store.replace(record.userId, { fingerprint: record.fingerprint, salt: Buffer.alloc(16, 7) }, next)).toBe(false);
      expectKeyFields(await store.get(record.userId), record);
    });

    it('lets exactly one of two concurrent rotations from the same key win', async () => {
      const record = newRecord();
      await store.insert(record);
      const a = newRecord({ userId: record.userId });
      const b = newRecord({ userId: record.userId });
      const results = await Promise.all([
        store.replace(record.userId, record, a),
        store.replace(record.userId, record, b),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expectKeyFields(await store.get(record.userId), results[0] === true ? a : b);
    });

    it('lets exactly one of two concurrent re-encryptions of the same version win', async () => {
      const record = newRecord();
      await store.insert(record);
      const a = newRecord({ userId: record.userId, fingerprint: record.fingerprint });
      const b = newRecord({ userId: record.userId, fingerprint: record.fingerprint });
      const results = await Promise.all([store.replace(record.userId, record, a), store.replace(record.userId, record, b)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expectKeyFields(await store.get(record.userId), results[0] === true ? a : b);
    });

    it('deletes a record, after which the user can get a new one', async () => {
      const record = newRecord();
      await store.insert(record);
      expect(await store.delete(record.userId)).toBe(true);
      expect(await store.get(record.userId)).toBeNull();
      expect(await store.delete(record.userId)).toBe(false);
      const fresh = newRecord({ userId: record.userId });
      await store.insert(fresh);
      expectKeyFields(await store.get(record.userId), fresh);
    });

    it('rejects malformed input before it reaches the backend', async () => {
      const record = newRecord();
      await store.insert(record);
      // An object where a string belongs would be a query operator in MongoDB.
      const operator = { $ne: null } as unknown as string;
      await expect(store.get(operator)).rejects.toBeInstanceOf(TypeError);
      await expect(store.recordAccess(operator)).rejects.toBeInstanceOf(TypeError);
      await expect(store.delete(operator)).rejects.toBeInstanceOf(TypeError);
      await expect(store.get('')).rejects.toBeInstanceOf(TypeError);
      await expect(store.insert(newRecord({ algorithm: 'RSA-1024' as 'RSA-2048' }))).rejects.toBeInstanceOf(TypeError);
      await expect(store.insert(newRecord({ iterations: 0 }))).rejects.toBeInstanceOf(TypeError);
      await expect(store.insert(newRecord({ salt: Buffer.alloc(0) }))).rejects.toBeInstanceOf(TypeError);
      await expect(store.replace(record.userId, record, newRecord())).rejects.toBeInstanceOf(TypeError);
      await expect(store.replace(record.userId, { fingerprint: operator, salt: record.salt }, { ...record })).rejects.toBeInstanceOf(TypeError);
      await expect(store.replace(record.userId, { fingerprint: record.fingerprint, salt: operator as unknown as Buffer }, { ...record })).rejects.toBeInstanceOf(TypeError);
      expectKeyFields(await store.get(record.userId), record);
    });

    it('lists nothing in an empty store', async () => {
      expect(await listAll(store)).toEqual([]);
    });

    // More than two pages of the adapters' listing (256 records each).
    it('lists every record once, in user id order, byte-exact with dates and counters', async () => {
      const records = Array.from({ length: 600 }, () => newRecord());
      for (let i = 0; i < records.length; i += 50) await Promise.all(records.slice(i, i + 50).map((r) => store.insert(r)));
      const accessed = records[7] as NewPrivateKeyRecord;
      await store.recordAccess(accessed.userId);
      const listed = await listAll(store);
      expect(listed.map((r) => r.userId)).toEqual(records.map((r) => r.userId).sort());
      const byId = new Map(records.map((r) => [r.userId, r]));
      for (const record of listed) expectKeyFields(record, byId.get(record.userId) as NewPrivateKeyRecord);
      const listedAccess = listed.find((r) => r.userId === accessed.userId);
      expect(listedAccess).toMatchObject({ accessCount: 1, lastAccessed: expect.any(Date) });
      expect(listed.filter((r) => r.accessCount > 0)).toHaveLength(1);
    });

    it('lists every record present throughout exactly once while others are inserted and deleted', async () => {
      const records = Array.from({ length: 300 }, () => newRecord());
      for (let i = 0; i < records.length; i += 50) await Promise.all(records.slice(i, i + 50).map((r) => store.insert(r)));
      const sorted = records.map((r) => r.userId).sort();
      const deleted = sorted.at(-1) as string;
      const seen: string[] = [];
      for await (const record of store.listAll()) {
        if (seen.length === 0) {
          await store.delete(deleted);
          // Sorts before every listed id: behind the listing's position.
          await store.insert(newRecord({ userId: `0-early-${randomBytes(4).toString('hex')}` }));
        }
        seen.push(record.userId);
      }
      const present = sorted.slice(0, -1);
      expect(seen.filter((id) => present.includes(id))).toEqual(present);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('restores a listed record exactly, dates and counters included, into another store', async () => {
      const record = newRecord();
      await store.insert(record);
      await store.recordAccess(record.userId);
      const [listed] = await listAll(store);
      expect(listed).toBeDefined();
      const original = listed as PrivateKeyRecord;
      expect(await store.delete(original.userId)).toBe(true);

      const restored = { ...original, createdAt: new Date('2024-02-29T12:34:56.789Z'), accessCount: 41 };
      await store.restore(restored);
      const stored = expectKeyFields(await store.get(original.userId), record);
      expect(stored.createdAt.toISOString()).toBe('2024-02-29T12:34:56.789Z');
      expect(stored.lastAccessed?.getTime()).toBe(original.lastAccessed?.getTime());
      expect(stored.accessCount).toBe(41);
      expect(await store.recordAccess(original.userId)).toMatchObject({ accessCount: 42 });

      await expect(store.restore(restored)).rejects.toBeInstanceOf(KeyStoreConflictError);
      await store.restore({ ...newRecord(), createdAt: new Date(0), lastAccessed: null, accessCount: 0 });
      expect(await listAll(store)).toHaveLength(2);
    });

    it('refuses a restore with malformed dates or counters', async () => {
      const base = { ...newRecord(), createdAt: new Date(), lastAccessed: null, accessCount: 0 };
      await expect(store.restore({ ...base, createdAt: new Date(Number.NaN) })).rejects.toBeInstanceOf(TypeError);
      await expect(store.restore({ ...base, lastAccessed: 'yesterday' as unknown as Date })).rejects.toBeInstanceOf(TypeError);
      await expect(store.restore({ ...base, accessCount: -1 })).rejects.toBeInstanceOf(TypeError);
      await expect(store.restore({ ...base, userId: { $ne: null } as unknown as string })).rejects.toBeInstanceOf(TypeError);
      expect(await listAll(store)).toEqual([]);
    });

    it('pings while open, and after close() every operation is unavailable', async () => {
      await store.ping();
      const record = newRecord();
      await store.close();
      await store.close();
      const operations = [
        store.ping(),
        store.insert(record),
        store.get(record.userId),
        store.recordAccess(record.userId),
        store.replace(record.userId, record, record),
        store.delete(record.userId),
        store.restore({ ...record, createdAt: new Date(), lastAccessed: null, accessCount: 0 }),
        listAll(store),
      ];
      for (const result of await Promise.allSettled(operations)) {
        expect(result.status).toBe('rejected');
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(KeyStoreUnavailableError);
          expect(result.reason).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE' });
        }
      }
    });
  });
}
