import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { BlobExistsError, BlobNotFoundError, InvalidBlobKeyError, type BlobStore } from '../../src/stores/blobstore/index.ts';
import { PART_SIZE } from '../../src/stores/blobstore/s3-blob-store.ts';

// The behaviour every BlobStore backend must share. Each runner passes a harness
// whose open() returns a store over a fresh, empty namespace, and whose list()
// names everything the backend holds there: committed blobs by key, unfinished
// writes as '<key>.partial', anything else by its own name.

export interface BlobStoreHarness {
  open(): Promise<BlobStore>;
  list(): Promise<string[]>;
  /** Puts an object or file the store did not write (an operator's note). */
  putForeign(name: string, data: Buffer): Promise<void>;
}

// More than two S3 parts and one fs write buffer, and not a multiple of anything.
const payload = randomBytes(2 * PART_SIZE + 4321);

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

export function blobStoreContract(name: string, harness: BlobStoreHarness): void {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;

    beforeEach(async () => {
      store = await harness.open();
    });

    async function put(data: Buffer, key = store.newKey()): Promise<string> {
      const writer = store.createWriter(key);
      await pipeline(Readable.from(chunks(data, 100_000)), writer.stream);
      await writer.commit();
      return key;
    }

    const read = (key: string, range?: { start: number; end: number }): Promise<Buffer> => buffer(store.createReadStream(key, range));

    it('names blobs with random url-safe keys', () => {
      const keys = new Set(Array.from({ length: 1000 }, () => store.newKey()));
      expect(keys.size).toBe(1000);
      for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it('writes, commits and reads back a blob byte-exact (multipart and single-part), with nothing else left', async () => {
      const large = await put(payload);
      const small = await put(payload.subarray(0, 1000));
      const empty = await put(Buffer.alloc(0));
      expect(await store.size(large)).toBe(payload.length);
      expect((await read(large)).equals(payload)).toBe(true);
      expect((await read(small)).equals(payload.subarray(0, 1000))).toBe(true);
      expect(await store.size(empty)).toBe(0);
      expect((await read(empty)).length).toBe(0);
      expect((await harness.list()).sort()).toEqual([large, small, empty].sort());
    });

    it('does not show a blob before commit, even once its stream has ended', async () => {
      for (const size of [1000, PART_SIZE + 1]) {
        const key = store.newKey();
        const writer = store.createWriter(key);
        await pipeline(Readable.from(chunks(payload.subarray(0, size), 100_000)), writer.stream);
        await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
        await writer.commit();
        expect(await store.size(key)).toBe(size);
      }
    });

    it('serves inclusive byte ranges, across part and buffer boundaries', async () => {
      const key = await put(payload);
      for (const [start, end] of [
        [0, 0],
        [10, 1000],
        [1024 * 1024 - 5, 1024 * 1024 + 5],
        [PART_SIZE - 5, PART_SIZE + 5],
        [payload.length - 1, payload.length - 1],
        [0, payload.length - 1],
      ] as const) {
        expect((await read(key, { start, end })).equals(payload.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
      }
      expect(() => store.createReadStream(key, { start: 5, end: 4 })).toThrow(RangeError);
      expect(() => store.createReadStream(key, { start: -1, end: 4 })).toThrow(RangeError);
      expect(() => store.createReadStream(key, { start: 0.5, end: 4 })).toThrow(RangeError);
    });

    it('a reader that stops early releases the blob and the rest stays readable', async () => {
      const key = await put(payload);
      const stream = store.createReadStream(key);
      for await (const chunk of stream) {
        expect((chunk as Buffer).length).toBeGreaterThan(0);
        break;
      }
      expect(stream.destroyed).toBe(true);
      expect((await read(key, { start: 5, end: 9 })).equals(payload.subarray(5, 10))).toBe(true);
    });

    it('reports a missing blob as BlobNotFoundError from size() and from the read stream', async () => {
      const key = store.newKey();
      await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(read(key, { start: 0, end: 10 })).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('deletes idempotently: a shredded blob is gone from the store', async () => {
      const key = await put(payload.subarray(0, 10));
      await store.delete(key);
      await store.delete(key);
      await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await harness.list()).toEqual([]);
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

      // Past the first part: the server holds parts until the upload is aborted.
      const failing = store.createWriter(store.newKey());
      const source = Readable.from(
        (function* () {
          yield* chunks(payload.subarray(0, PART_SIZE + 1000), 100_000);
          throw new Error('client went away');
        })(),
      );
      await expect(pipeline(source, failing.stream)).rejects.toThrow('client went away');
      await expect(failing.commit()).rejects.toThrow();
      await failing.abort();

      // An upload whose database row cannot be written undoes its committed blob.
      const key = store.newKey();
      const committed = store.createWriter(key);
      committed.stream.end(payload.subarray(0, PART_SIZE + 10));
      await committed.commit();
      await committed.abort();
      await expect(store.size(key)).rejects.toBeInstanceOf(BlobNotFoundError);

      expect(await harness.list()).toEqual([]);
    });

    it('never replaces a committed blob under the same key', async () => {
      const key = await put(payload.subarray(0, 100));
      for (const size of [100, PART_SIZE + 100]) {
        const second = store.createWriter(key);
        second.stream.end(payload.subarray(100, 100 + size));
        const refused = second.commit();
        await expect(refused).rejects.toMatchObject({ code: 'EEXIST' });
        await second.abort();
      }
      expect((await read(key)).equals(payload.subarray(0, 100))).toBe(true);
      expect(await harness.list()).toEqual([key]);
      expect(new BlobExistsError().code).toBe('EEXIST');
    });

    it('sweeps unfinished writes and unreferenced blobs older than the cutoff, keeping referenced, recent and foreign ones', async () => {
      const referenced = await put(payload.subarray(0, 10));
      const orphan = await put(payload.subarray(0, 10));
      // A crash mid-upload: the writer is never committed nor aborted.
      const crashedKey = store.newKey();
      const crashed = store.createWriter(crashedKey);
      // Two parts: the write returns once the first is on the server.
      await new Promise<void>((resolve, reject) => crashed.stream.write(payload, (error) => (error ? reject(error) : resolve())));
      await harness.putForeign('operator-notes.txt', Buffer.from('not a blob'));
      expect(await harness.list()).toContain(`${crashedKey}.partial`);

      // A cutoff before everything: nothing is old enough, nothing is asked about.
      const asked: string[] = [];
      const isReferenced = async (key: string): Promise<boolean> => {
        asked.push(key);
        return key === referenced;
      };
      expect(await store.sweep(isReferenced, new Date(Date.now() - 3600_000))).toEqual({ removedPartials: 0, removedOrphans: 0 });
      expect(asked).toEqual([]);

      // A cutoff after everything.
      const result = await store.sweep(isReferenced, new Date(Date.now() + 3600_000));
      expect(result).toEqual({ removedPartials: 1, removedOrphans: 1 });
      expect(asked.sort()).toEqual([referenced, orphan].sort());
      expect((await harness.list()).sort()).toEqual([referenced, 'operator-notes.txt'].sort());
      crashed.stream.destroy();
      await crashed.abort();
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
      ['query string', `${'a'.repeat(22)}?uploads`],
      ['not a string', 42 as unknown as string],
    ])('rejects a hostile key: %s', async (_label, key) => {
      expect(() => store.createWriter(key)).toThrow(InvalidBlobKeyError);
      expect(() => store.createReadStream(key)).toThrow(InvalidBlobKeyError);
      await expect(store.size(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      expect(await harness.list()).toEqual([]);
    });
  });
}
