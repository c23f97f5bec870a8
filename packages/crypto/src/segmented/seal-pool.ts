/**
 * Encrypt streams whose SHA-256 and segment sealing run on a small pool of
 * worker threads, so the caller's thread (parsing an upload) and the sealing
 * use two cores. Same bytes as the in-thread stream (encrypt.ts) for the same
 * DEK, header and plaintext, emitted as one buffer per sealed segment (the
 * in-thread stream pushes the cipher's output pieces and the tag instead).
 *
 * - Workers start on the first stream, never at import; `maxWorkers` at most,
 *   shared by all streams. A worker is unref'd whenever no reply is awaited,
 *   so an idle pool never keeps the process alive; one without streams for
 *   `idleMs` ends (a thread keeps tens of MiB after a large upload), and
 *   `close()` ends them all.
 * - Plaintext goes over in batches (`batchBytes`, copied once into a buffer
 *   that is transferred, not copied again); a stream has at most `window`
 *   batches in flight and holds its write callback while the window is full
 *   or its reader is behind, so a slow consumer stops its producer.
 * - The file key is derived here from the DEK (FORMAT.md "Keys") and its one
 *   copy is transferred to the worker at open; the DEK never leaves this
 *   thread. Local copies are zeroed.
 * - A worker that fails or exits fails every stream it served; the next
 *   stream starts a new one. Legacy algorithms stay on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { Duplex } from 'node:stream';
import { AEAD_TAG_LENGTH, type AeadAlgorithm } from '../aead.ts';
import { isLegacyAlgorithm } from '../algorithms.ts';
import { OwnedWorker, positiveInteger } from '../owned-worker.ts';
import {
  checkedHeader,
  createHashingEncryptStream,
  freshRandomness,
  type EncryptStreamOptions,
  type HashingEncryptStream,
  type StreamRandomness,
} from './encrypt.ts';
import type { Header } from './header.ts';
import { deriveFileKey } from './segment-cipher.ts';
import type { FromWorker, ToWorker } from './seal-protocol.ts';

export interface SealPoolOptions {
  /** Sealing threads at most; default 1 on up to 2 cores, else 2. */
  maxWorkers?: number;
  /** Plaintext bytes per message to a worker; default 1 MiB. */
  batchBytes?: number;
  /** Batches one stream may have in flight; default 2. */
  window?: number;
  /** A worker without streams for this long ends; the next stream starts another. Default 30 s. */
  idleMs?: number;
}

const DEFAULT_BATCH_BYTES = 1024 * 1024;
const DEFAULT_WINDOW = 2;
const DEFAULT_IDLE_MS = 30_000;
const WORKER_URL = new URL('./seal-worker.js', import.meta.url);

type Callback = (error?: Error | null) => void;

interface Channel {
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** The stream is done with its worker (ended, failed or destroyed). */
  release(): void;
}

class WorkerEncryptStream extends Duplex implements HashingEncryptStream {
  readonly #channel: Channel;
  readonly #id: number;
  readonly #sealedSegmentLength: number;
  readonly #batchBytes: number;
  readonly #window: number;
  #batch: Buffer | null = null;
  #filled = 0;
  #inFlight = 0;
  #readerBehind = false;
  #pendingWrite: Callback | null = null;
  #finalCallback: Callback | null = null;
  #sha256: string | null = null;
  #released = false;

  constructor(channel: Channel, id: number, header: Header, batchBytes: number, window: number) {
    super({
      writableHighWaterMark: batchBytes,
      readableHighWaterMark: header.segmentSize + AEAD_TAG_LENGTH,
    });
    this.#channel = channel;
    this.#id = id;
    this.#sealedSegmentLength = header.segmentSize + AEAD_TAG_LENGTH;
    this.#batchBytes = batchBytes;
    this.#window = window;
    this.push(header.bytes);
  }

  plaintextSha256(): string {
    if (this.#sha256 === null) throw new Error('the stream has not ended');
    return this.#sha256;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#batch === null) {
        this.#batch = Buffer.allocUnsafeSlow(this.#batchBytes);
        this.#filled = 0;
      }
      const copied = chunk.copy(this.#batch, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === this.#batchBytes) this.#sendBatch();
    }
    if (this.#mayTakeMore()) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: Callback): void {
    if (this.#filled > 0) this.#sendBatch();
    this.#finalCallback = callback;
    this.#channel.post({ t: 'end', id: this.#id });
  }

  override _read(): void {
    this.#readerBehind = false;
    this.#releaseWrite();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    if (!this.#released) {
      this.#channel.post({ t: 'drop', id: this.#id });
      this.#release();
    }
    this.#batch = null;
    this.#pendingWrite = null;
    this.#finalCallback = null;
    callback(error);
  }

  /** A reply from the worker for this stream (never called after release). */
  onReply(message: FromWorker): void {
    if (message.t === 'opened') return;
    if (message.t === 'error') {
      this.destroy(new Error(`sealing failed: ${message.message}`));
      return;
    }
    if (message.t === 'sealed') {
      this.#inFlight -= 1;
      this.#pushSegments(message.sealed, message.length);
      this.#releaseWrite();
      return;
    }
    this.#pushSegments(message.sealed, message.length);
    this.#sha256 = message.sha256;
    this.#release();
    this.push(null);
    const callback = this.#finalCallback;
    this.#finalCallback = null;
    callback?.();
  }

  /** The worker this stream ran on is gone. */
  onWorkerLost(error: Error): void {
    this.#release();
    this.destroy(error);
  }

  #sendBatch(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    this.#inFlight += 1;
    this.#channel.post({ t: 'data', id: this.#id, chunk: batch.buffer as ArrayBuffer, length: this.#filled }, [
      batch.buffer as ArrayBuffer,
    ]);
    this.#filled = 0;
  }

  #pushSegments(sealed: ArrayBuffer, length: number): void {
    const step = this.#sealedSegmentLength;
    for (let offset = 0; offset < length; offset += step) {
      if (!this.push(Buffer.from(sealed, offset, Math.min(step, length - offset)))) this.#readerBehind = true;
    }
  }

  #mayTakeMore(): boolean {
    return this.#inFlight < this.#window && !this.#readerBehind;
  }

  #releaseWrite(): void {
    if (this.#pendingWrite === null || !this.#mayTakeMore()) return;
    const callback = this.#pendingWrite;
    this.#pendingWrite = null;
    callback();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#channel.release();
  }
}

interface Slot {
  owned: OwnedWorker;
  streams: Map<number, WorkerEncryptStream>;
  /** Messages sent that still await a reply; the worker is ref'd while this is > 0. */
  awaited: number;
}

let openWithRandomness: (
  pool: SealWorkerPool,
  dek: Buffer,
  associatedData: Buffer,
  options: EncryptStreamOptions,
  randomness: StreamRandomness,
) => HashingEncryptStream;

export class SealWorkerPool {
  readonly #maxWorkers: number;
  readonly #batchBytes: number;
  readonly #window: number;
  readonly #idleMs: number;
  readonly #workerUrl: URL;
  #slots: Slot[] = [];
  #nextId = 1;
  #closed = false;

  static {
    openWithRandomness = (pool, dek, associatedData, options, randomness) =>
      pool.#open(dek, associatedData, options, randomness);
  }

  /** `workerUrl` is for tests, which substitute a worker that fails. */
  constructor(options: SealPoolOptions = {}, workerUrl: URL = WORKER_URL) {
    this.#workerUrl = workerUrl;
    this.#maxWorkers = positiveInteger(options.maxWorkers ?? (availableParallelism() > 2 ? 2 : 1), 'maxWorkers');
    this.#batchBytes = positiveInteger(options.batchBytes ?? DEFAULT_BATCH_BYTES, 'batchBytes');
    this.#window = positiveInteger(options.window ?? DEFAULT_WINDOW, 'window');
    this.#idleMs = positiveInteger(options.idleMs ?? DEFAULT_IDLE_MS, 'idleMs');
  }

  /** Workers running now (0 until the first stream). */
  get workerCount(): number {
    return this.#slots.length;
  }

  /** Streams opened on a worker and not yet ended or destroyed. */
  get activeStreams(): number {
    let count = 0;
    for (const slot of this.#slots) count += slot.streams.size;
    return count;
  }

  /** Messages sent to workers whose reply has not come back; 0 when the pool is idle. */
  get pendingReplies(): number {
    let count = 0;
    for (const slot of this.#slots) count += slot.awaited;
    return count;
  }

  /**
   * Same contract as createEncryptStream, plus `plaintextSha256()` once the
   * output ended. The stream must be ended or destroyed (pipeline does both).
   */
  createEncryptStream(dek: Buffer, associatedData: Buffer, options: EncryptStreamOptions = {}): HashingEncryptStream {
    return this.#open(dek, associatedData, options, freshRandomness());
  }

  /** Fails the open streams and ends the workers; later streams are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((slot) => slot.owned.end(new Error('the seal worker pool was closed'))));
  }

  #open(dek: Buffer, associatedData: Buffer, options: EncryptStreamOptions, randomness: StreamRandomness): HashingEncryptStream {
    const header = checkedHeader(dek, options, randomness);
    const { algorithm } = header;
    if (isLegacyAlgorithm(algorithm)) return createHashingEncryptStream(dek, associatedData, header);
    if (this.#closed) throw new Error('the seal worker pool is closed');
    const slot = this.#slotForNewStream();
    slot.owned.keep();
    const id = this.#nextId++;
    const channel: Channel = {
      post: (message, transfer) => {
        if (slot.owned.lost) return;
        if (message.t !== 'drop') {
          if (slot.awaited === 0) slot.owned.worker.ref();
          slot.awaited += 1;
        }
        slot.owned.worker.postMessage(message, transfer ?? []);
      },
      release: () => {
        slot.streams.delete(id);
        if (slot.streams.size === 0) slot.owned.retireAfter(this.#idleMs, () => slot.streams.size === 0, 'the seal worker was idle');
      },
    };
    const stream = new WorkerEncryptStream(channel, id, header, this.#batchBytes, this.#window);
    slot.streams.set(id, stream);
    const derived = deriveFileKey(dek, header, 32);
    const key = new Uint8Array(derived.length);
    key.set(derived);
    derived.fill(0);
    channel.post(
      {
        t: 'open',
        id,
        algorithm: algorithm satisfies AeadAlgorithm,
        key,
        ad: new Uint8Array(associatedData),
        noncePrefix: new Uint8Array(header.noncePrefix),
        segmentSize: header.segmentSize,
      },
      [key.buffer],
    );
    return stream;
  }

  /** An idle worker, else a new one while under the limit, else the least busy. */
  #slotForNewStream(): Slot {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (best === undefined || slot.streams.size < best.streams.size) best = slot;
    }
    if (best !== undefined && (best.streams.size === 0 || this.#slots.length >= this.#maxWorkers)) return best;
    return this.#spawn();
  }

  #spawn(): Slot {
    const slot: Slot = {
      owned: new OwnedWorker(this.#workerUrl, 'seal worker', undefined, {
        message: (message) => {
          slot.awaited -= 1;
          if (slot.awaited === 0) slot.owned.worker.unref();
          const reply = message as FromWorker;
          slot.streams.get(reply.id)?.onReply(reply);
        },
        lost: (error) => this.#onLost(slot, error),
      }),
      streams: new Map(),
      awaited: 0,
    };
    this.#slots.push(slot);
    return slot;
  }

  #onLost(slot: Slot, error: Error): void {
    this.#slots = this.#slots.filter((other) => other !== slot);
    for (const stream of [...slot.streams.values()]) stream.onWorkerLost(error);
    slot.streams.clear();
  }
}

export function createSealWorkerPool(options: SealPoolOptions = {}): SealWorkerPool {
  return new SealWorkerPool(options);
}

/** Seam for tests: a pooled stream with caller-chosen header randomness (see encrypt.ts). */
export function createPooledEncryptStreamWithRandomness(
  pool: SealWorkerPool,
  dek: Buffer,
  associatedData: Buffer,
  options: EncryptStreamOptions,
  randomness: StreamRandomness,
): HashingEncryptStream {
  return openWithRandomness(pool, dek, associatedData, options, randomness);
}
