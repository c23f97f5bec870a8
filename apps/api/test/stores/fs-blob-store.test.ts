import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFsBlobStore, type BlobStore } from '../../src/stores/blobstore/index.ts';
import { blobStoreContract } from './blob-store.contract.ts';

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

blobStoreContract('fs', {
  open: async () => createFsBlobStore(await freshDir()),
  list: () => readdir(contractDir),
  putForeign: (name, data) => writeFile(join(contractDir, name), data),
});

let contractDir = '';
async function freshDir(): Promise<string> {
  counter += 1;
  contractDir = join(baseDir, `contract-${counter}`);
  return contractDir;
}

describe('fs blob store', () => {
  it('creates its directory owner-only', async () => {
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('writes blobs owner-only', async () => {
    const key = await put(payload);
    expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
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
});
