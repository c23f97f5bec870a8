import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BlobNotFoundError,
  InvalidBlobKeyError,
  createFsBlobStore,
  type BlobStore,
} from '../../src/stores/blobstore/index.ts';

let baseDir: string;
let dir: string;
let store: BlobStore;
let counter = 0;

beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), 'sfe-blobs-'));
});
afterAll(async () => {
  await rm(baseDir, { recursive: true, force: true });
});
beforeEach(async () => {
  counter += 1;
  dir = join(baseDir, `blobs-${counter}`, 'nested');
  store = await createFsBlobStore(dir);
});

// Larger than one 1 MiB write buffer and not a multiple of anything.
const payload = randomBytes(3 * 1024 * 1024 + 4321);

async function put(data: Buffer, key = store.newKey()): Promise<string> {
  const writer = store.createWriter(key);
  await pipeline(Readable.from(chunks(data, 100_000)), writer.stream);
  await writer.commit();
  return key;
}

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

function read(key: string, range?: { start: number; end: number }): Promise<Buffer> {
  return buffer(store.createReadStream(key, range));
}

describe('fs blob store', () => {
  it('creates its directory owner-only and names blobs with random url-safe keys', async () => {
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const keys = new Set(Array.from({ length: 1000 }, () => store.newKey()));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('writes, commits and reads back a blob byte-exact, owner-only, with no partial left', async () => {
    const key = await put(payload);
    expect(await store.size(key)).toBe(payload.length);
    expect((await read(key)).equals(payload)).toBe(true);
    expect(await readdir(dir)).toEqual([key]);
    expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
  });

  it('does not show a blob before commit', async () => {
    const key = store.newKey();
    const writer = store.createWriter(key);
    await pipeline(Readable.from([payload.subarray(0, 1000)]), writer.stream);
    await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    await writer.commit();
    expect(await store.size(key)).toBe(1000);
  });

  it('serves inclusive byte ranges, across write-buffer boundaries', async () => {
    const key = await put(payload);
    const mib = 1024 * 1024;
    for (const [start, end] of [
      [0, 0],
      [10, 1000],
      [mib - 5, mib + 5],
      [payload.length - 1, payload.length - 1],
      [0, payload.length - 1],
    ] as const) {
      expect((await read(key, { start, end })).equals(payload.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
    }
    expect(() => store.createReadStream(key, { start: 5, end: 4 })).toThrow(RangeError);
    expect(() => store.createReadStream(key, { start: -1, end: 4 })).toThrow(RangeError);
    expect(() => store.createReadStream(key, { start: 0.5, end: 4 })).toThrow(RangeError);
  });

  it('reports a missing blob as BlobNotFoundError from size() and from the read stream', async () => {
    const key = store.newKey();
    await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('deletes idempotently', async () => {
    const key = await put(payload.subarray(0, 10));
    await store.delete(key);
    await store.delete(key);
    await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('commit is idempotent and refuses a stream that was not ended', async () => {
    const key = store.newKey();
    const early = store.createWriter(key);
    early.stream.write(payload.subarray(0, 10));
    await expect(early.commit()).rejects.toThrow(/before its stream ended/);
    await early.abort();

    const writer = store.createWriter(key);
    writer.stream.end(payload.subarray(0, 10));
    await Promise.all([writer.commit(), writer.commit()]);
    await writer.commit();
    expect((await read(key)).equals(payload.subarray(0, 10))).toBe(true);
  });

  it('abort leaves nothing behind: before any write, mid-write, after a failed source, after commit', async () => {
    const immediate = store.createWriter(store.newKey());
    await immediate.abort();

    const midWrite = store.createWriter(store.newKey());
    midWrite.stream.write(payload);
    await midWrite.abort();
    await midWrite.abort();
    await expect(midWrite.commit()).rejects.toThrow(/aborted/);

    const failing = store.createWriter(store.newKey());
    const source = Readable.from(
      (function* () {
        yield payload.subarray(0, 1000);
        throw new Error('client went away');
      })(),
    );
    await expect(pipeline(source, failing.stream)).rejects.toThrow('client went away');
    await expect(failing.commit()).rejects.toThrow();
    await failing.abort();

    // An upload whose database row cannot be written undoes its committed blob.
    const key = store.newKey();
    const committed = store.createWriter(key);
    committed.stream.end(payload.subarray(0, 10));
    await committed.commit();
    await committed.abort();
    await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);

    expect(await readdir(dir)).toEqual([]);
  });

  it("never removes or replaces another writer's data under the same key", async () => {
    const key = store.newKey();
    const first = store.createWriter(key);
    first.stream.write(payload.subarray(0, 100));
    const second = store.createWriter(key);
    second.stream.end(payload.subarray(100, 200));
    await expect(second.commit()).rejects.toMatchObject({ code: 'EEXIST' });
    await second.abort();
    first.stream.end();
    await first.commit();
    expect((await read(key)).equals(payload.subarray(0, 100))).toBe(true);

    const third = store.createWriter(key);
    third.stream.end(payload.subarray(200, 300));
    await expect(third.commit()).rejects.toMatchObject({ code: 'EEXIST' });
    await third.abort();
    expect((await read(key)).equals(payload.subarray(0, 100))).toBe(true);
    expect(await readdir(dir)).toEqual([key]);
  });

  it('sweeps old partials and old unreferenced blobs, keeping referenced, recent and foreign files', async () => {
    const hourAgo = new Date(Date.now() - 3600_000);
    const dayAgo = new Date(Date.now() - 86_400_000);
    const age = (name: string): Promise<void> => utimes(join(dir, name), dayAgo, dayAgo);

    const referenced = await put(payload.subarray(0, 10));
    const orphan = await put(payload.subarray(0, 10));
    const recentOrphan = await put(payload.subarray(0, 10));
    const crashed = store.newKey();
    await writeFile(join(dir, `${crashed}.partial`), payload.subarray(0, 10));
    const inFlightKey = store.newKey();
    const inFlight = store.createWriter(inFlightKey);
    inFlight.stream.write(payload.subarray(0, 10));
    await new Promise((resolve) => inFlight.stream.once('ready', resolve));
    await writeFile(join(dir, 'operator-notes.txt'), 'not a blob');
    for (const name of [referenced, orphan, `${crashed}.partial`, 'operator-notes.txt']) await age(name);

    const asked: string[] = [];
    const result = await store.sweep(async (key) => {
      asked.push(key);
      return key === referenced;
    }, hourAgo);

    expect(result).toEqual({ removedPartials: 1, removedOrphans: 1 });
    expect(asked.sort()).toEqual([referenced, orphan].sort());
    expect((await readdir(dir)).sort()).toEqual(
      [referenced, recentOrphan, 'operator-notes.txt', `${inFlightKey}.partial`].sort(),
    );
    inFlight.stream.end();
    await inFlight.commit();
  });

  it.each([
    ['empty', ''],
    ['parent', '../x'],
    ['deep parent', '../../../../etc/passwd'],
    ['dot', '.'],
    ['dot-dot', '..'],
    ['slash', 'aaaaaaaaaaa/aaaaaaaaaaaa'],
    ['absolute', '/etc/passwd/aaaaaaaaaaaaaaaa'],
    ['too short', 'a'.repeat(21)],
    ['partial name', `${'a'.repeat(22)}.partial`],
    ['NUL byte', `${'a'.repeat(22)}\0`],
    ['not a string', 42 as unknown as string],
  ])('rejects a hostile key: %s', async (_label, key) => {
    expect(() => store.createWriter(key)).toThrow(InvalidBlobKeyError);
    expect(() => store.createReadStream(key)).toThrow(InvalidBlobKeyError);
    await expect(store.size(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    expect(await readdir(dir)).toEqual([]);
  });
});
