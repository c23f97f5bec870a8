import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AlgorithmDisabledError, MODERN_ALGORITHMS, createDecryptStream, generateDek, type FileAlgorithm } from '../src/index.ts';
import { createEncryptStreamWithRandomness, type StreamRandomness } from '../src/segmented/encrypt.ts';
import { DEFAULT_SEGMENT_SIZE, HEADER_LENGTH } from '../src/segmented/header.ts';
import { SealWorkerPool, createPooledEncryptStreamWithRandomness } from '../src/segmented/seal-pool.ts';
import { closedAfterAll } from './helpers/closing.ts';
import { chunked, decrypt } from './helpers/streams.ts';

const AD = Buffer.from('file:5e41a7c2');
const MiB = 1024 * 1024;

const randomness = (): StreamRandomness => ({ salt: randomBytes(32), noncePrefix: randomBytes(7) });
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** What the pool emits for `size` plaintext bytes: the header, then each sealed segment as one buffer. */
function sealedChunkLengths(size: number, segmentSize: number): number[] {
  const segments = Math.max(1, Math.ceil(size / segmentSize));
  const lengths = [HEADER_LENGTH];
  for (let i = 0; i < segments; i++) lengths.push((i < segments - 1 ? segmentSize : size - (segments - 1) * segmentSize) + 16);
  return lengths;
}

/** Every chunk the stream emitted, as emitted. */
async function chunksOf(source: Readable, stream: Duplex): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  await pipeline(
    source,
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return chunks;
}

/** Polls until `value()` stops changing: the pipeline has filled every buffer it will fill. */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  while (still < 5) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = value();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

const pattern = randomBytes(MiB);

/** `total` bytes of one pattern (each chunk numbered), produced on demand in `chunk`-sized buffers. */
function generated(total: number, chunk = MiB, onChunk?: (produced: number) => void): Readable {
  let produced = 0;
  let index = 0;
  return new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const length = Math.min(chunk, total - produced);
      const next = Buffer.allocUnsafe(length);
      pattern.copy(next, 0, 0, length);
      if (length >= 4) next.writeUInt32BE(index, 0);
      index += 1;
      produced += length;
      onChunk?.(produced);
      this.push(next);
    },
  });
}

const keep = closedAfterAll<SealWorkerPool>();
const pool = (options?: ConstructorParameters<typeof SealWorkerPool>[0]) => keep(new SealWorkerPool(options));

describe('seal worker pool', () => {
  it('starts no worker until the first stream', async () => {
    const idle = pool();
    expect(idle.workerCount).toBe(0);
    const stream = idle.createEncryptStream(generateDek(), AD);
    expect(idle.workerCount).toBe(1);
    stream.destroy();
    await idle.close();
    expect(idle.workerCount).toBe(0);
  });

  it('ends a worker left without streams for idleMs, and starts another for the next stream', async () => {
    const sealer = pool({ idleMs: 20 });
    const dek = generateDek();
    const plaintext = randomBytes(100_000);
    const first = Buffer.concat(await chunksOf(chunked(plaintext), sealer.createEncryptStream(dek, AD)));
    expect(sealer.workerCount).toBe(1);
    for (let i = 0; i < 500 && sealer.workerCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sealer.workerCount).toBe(0);
    const second = Buffer.concat(await chunksOf(chunked(plaintext), sealer.createEncryptStream(dek, AD)));
    expect(sealer.workerCount).toBe(1);
    for (const ciphertext of [first, second]) expect((await decrypt(dek, AD, ciphertext)).equals(plaintext)).toBe(true);
  });

  describe.each(MODERN_ALGORITHMS)('%s', (algorithm: FileAlgorithm) => {
    // A small batch puts segments across batch boundaries; the default one keeps them inside.
    it.each([
      { segmentSize: 16, batchBytes: 50 },
      { segmentSize: 1000, batchBytes: 4096 },
      { segmentSize: 65536, batchBytes: MiB },
    ])('emits the in-thread stream bytes, one buffer per segment (segment $segmentSize, batch $batchBytes)', async ({ segmentSize, batchBytes }) => {
      const sealer = pool({ batchBytes, window: 2 });
      const dek = generateDek();
      const S = segmentSize;
      const sizes = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S + 7, batchBytes - 1, batchBytes, batchBytes + 1, 3 * batchBytes + S];
      for (const size of sizes) {
        const plaintext = randomBytes(size);
        for (const pieces of [[size || 1], [7, 64, 3], [S + 16]]) {
          const header = randomness();
          const options = { algorithm, segmentSize };
          const expected = await chunksOf(chunked(plaintext, pieces), createEncryptStreamWithRandomness(dek, AD, options, header));
          const stream = createPooledEncryptStreamWithRandomness(sealer, dek, AD, options, header);
          const actual = await chunksOf(chunked(plaintext, pieces), stream);
          expect(Buffer.concat(actual).equals(Buffer.concat(expected))).toBe(true);
          expect(actual.map((chunk) => chunk.length)).toEqual(sealedChunkLengths(size, S));
          expect(stream.plaintextSha256()).toBe(sha256(plaintext));
        }
      }
      expect(sealer.activeStreams).toBe(0);
    });

    it('seals concurrent streams on one worker without mixing them', async () => {
      const sealer = pool({ maxWorkers: 1, batchBytes: 8192 });
      const dek = generateDek();
      const inputs = [0, 5000, 70_000, 200_000, 1].map((size) => randomBytes(size));
      const outputs = await Promise.all(
        inputs.map(async (plaintext) => {
          const stream = sealer.createEncryptStream(dek, AD, { algorithm, segmentSize: 4096 });
          const ciphertext = Buffer.concat(await chunksOf(chunked(plaintext, [3000]), stream));
          return { ciphertext, digest: stream.plaintextSha256() };
        }),
      );
      expect(sealer.workerCount).toBe(1);
      for (const [i, plaintext] of inputs.entries()) {
        const output = outputs[i]!;
        expect((await decrypt(dek, AD, output.ciphertext)).equals(plaintext)).toBe(true);
        expect(output.digest).toBe(sha256(plaintext));
      }
    });
  });

  it('streams 1 GiB and 7 bytes with the in-thread bytes, without holding them', async () => {
    const total = 1024 * MiB + 7;
    const dek = generateDek();
    const header = randomness();
    let peakExternal = 0;
    const digestOf = async (stream: Duplex) => {
      const hash = createHash('sha256');
      let length = 0;
      await pipeline(
        generated(total),
        stream,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            length += chunk.length;
            if ((length & 0xfffffff) < chunk.length) peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers);
            callback();
          },
        }),
      );
      return { digest: hash.digest('hex'), length };
    };
    const expected = await digestOf(createEncryptStreamWithRandomness(dek, AD, {}, header));
    const stream = createPooledEncryptStreamWithRandomness(pool(), dek, AD, {}, header);
    const actual = await digestOf(stream);
    expect(actual).toEqual(expected);
    expect(actual.length).toBe(total + HEADER_LENGTH + Math.ceil(total / DEFAULT_SEGMENT_SIZE) * 16);
    // Plaintext digest: the same generator hashed here.
    const hash = createHash('sha256');
    for await (const chunk of generated(total)) hash.update(chunk as Buffer);
    expect(stream.plaintextSha256()).toBe(hash.digest('hex'));
    expect(peakExternal).toBeLessThan(256 * MiB);
  });

  it('stops taking plaintext while its reader does not read, then finishes intact', async () => {
    const batchBytes = MiB;
    const sealer = pool({ batchBytes, window: 2 });
    const dek = generateDek();
    const total = 64 * MiB;
    let produced = 0;
    const source = generated(total, 64 * 1024, (bytes) => {
      produced = bytes;
    });
    const stream = sealer.createEncryptStream(dek, AD);
    source.pipe(stream);
    await settled(() => produced);
    // Two batches in flight (sealed and waiting in the readable buffer), one being filled,
    // one in the writable buffer, the source's own buffer: a few MiB, never the file.
    expect(produced).toBeLessThan(6 * batchBytes);
    expect(stream.readableLength).toBeLessThanOrEqual(2 * (batchBytes + 16 * 16) + 49);
    const plaintext = createHash('sha256');
    let length = 0;
    await pipeline(
      stream,
      createDecryptStream(dek, AD),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          plaintext.update(chunk);
          length += chunk.length;
          callback();
        },
      }),
    );
    expect(length).toBe(total);
    expect(plaintext.digest('hex')).toBe(stream.plaintextSha256());
  });

  it('fails on an aborted input, forgets the stream and keeps the worker for the next one', async () => {
    const sealer = pool();
    const dek = generateDek();
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= 8 * MiB) {
          this.destroy(new Error('client went away'));
          return;
        }
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 7));
      },
    });
    await expect(chunksOf(source, sealer.createEncryptStream(dek, AD))).rejects.toThrow('client went away');
    expect(sealer.activeStreams).toBe(0);
    expect(await settled(() => sealer.pendingReplies)).toBe(0);
    expect(sealer.workerCount).toBe(1);

    const plaintext = randomBytes(300_000);
    const ciphertext = Buffer.concat(await chunksOf(chunked(plaintext), sealer.createEncryptStream(dek, AD)));
    expect((await decrypt(dek, AD, ciphertext)).equals(plaintext)).toBe(true);
    expect(sealer.workerCount).toBe(1);
    await sealer.close();
    expect(sealer.workerCount).toBe(0);
  });

  it('fails the streams of a worker that crashes and starts a new worker for the next stream', async () => {
    const crashing = keep(new SealWorkerPool({}, new URL('./fixtures/crashing-seal-worker.js', import.meta.url)));
    const dek = generateDek();
    await expect(chunksOf(chunked(randomBytes(3 * MiB)), crashing.createEncryptStream(dek, AD))).rejects.toThrow(
      /seal worker (failed|exited)/,
    );
    expect(crashing.activeStreams).toBe(0);
    expect(crashing.workerCount).toBe(0);
    // The lost worker is not reused: the next stream gets a new one (which crashes too).
    const next = crashing.createEncryptStream(dek, AD);
    expect(crashing.workerCount).toBe(1);
    await expect(chunksOf(chunked(randomBytes(2 * MiB)), next)).rejects.toThrow(/seal worker (failed|exited)/);
    await crashing.close();
  });

  it('fails open streams when it closes, and refuses new ones', async () => {
    const sealer = pool();
    const dek = generateDek();
    let produced = 0;
    const running = chunksOf(
      generated(512 * MiB, 64 * 1024, (bytes) => {
        produced = bytes;
        if (bytes === 4 * MiB) void sealer.close();
      }),
      sealer.createEncryptStream(dek, AD),
    );
    await expect(running).rejects.toThrow('the seal worker pool was closed');
    expect(produced).toBeLessThan(512 * MiB);
    expect(sealer.workerCount).toBe(0);
    expect(() => sealer.createEncryptStream(dek, AD)).toThrow('closed');
  });

  it('keeps the algorithm policy: legacy ciphers need the opt-in and never start a worker', () => {
    const sealer = pool();
    for (const algorithm of ['des', 'rc4'] as const) {
      expect(() => sealer.createEncryptStream(generateDek(), AD, { algorithm })).toThrow(AlgorithmDisabledError);
    }
    expect(() => sealer.createEncryptStream(Buffer.alloc(16), AD)).toThrow('DEK must be 32 bytes');
    expect(sealer.workerCount).toBe(0);
  });
});
