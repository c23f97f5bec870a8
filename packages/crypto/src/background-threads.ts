/**
 * Dedicated threads for the slow jobs (the password KDFs scrypt and PBKDF2, RSA
 * key generation), at a lower scheduling priority than the rest of the process.
 *
 * Why: a login's scrypt holds a core for a quarter of a second, an RSA-4096 key
 * generation for about a second. On libuv's pool they compete at the same
 * priority as the event loop and the seal workers, so a stream of logins took a
 * core away from every transfer. Here each job runs synchronously on a thread of
 * its own (background-worker.js) that lowered its own nice value: when the cores
 * are busy the transfer threads win them, and when they are idle the job runs at
 * full speed. Linux only; elsewhere the threads run at the process's priority
 * (`threadIds` is then empty) and nothing else changes.
 *
 * - Threads start with the first job (never at import), one job each at a time,
 *   at most `maxThreads`; further jobs wait in FIFO order. A thread is unref'd
 *   while idle, so it never keeps the process alive, and ends after `idleMs`
 *   without a job.
 * - The password goes over in a fresh buffer that is transferred (the worker
 *   zeroes it after use); the key comes back transferred. Errors carry
 *   node:crypto's message and code, never the inputs.
 * - A thread that fails or exits fails its job; the next job starts another.
 */
import { availableParallelism } from 'node:os';
import { OwnedWorker, positiveInteger } from './owned-worker.ts';

export interface BackgroundThreadOptions {
  /** Threads at most; default one per core. */
  maxThreads?: number;
  /** Nice levels the threads add to the process's own (capped at 19); default 10. */
  niceIncrement?: number;
  /** A thread without a job for this long ends; default 30 s. */
  idleMs?: number;
}

export type KdfJob =
  | { kind: 'scrypt'; password: Uint8Array; salt: Uint8Array; length: number; N: number; r: number; p: number; maxmem: number }
  | { kind: 'pbkdf2'; password: Uint8Array; salt: Uint8Array; iterations: number; length: number };

export interface GeneratedRsaKey {
  publicKeyPem: string;
  privateKeyDer: Buffer;
}

type Job = KdfJob | { kind: 'rsa'; bits: number };

type Reply =
  | { id: number; key: Uint8Array; error?: undefined }
  | { id: number; publicKeyPem: string; privateKeyDer: Uint8Array; error?: undefined }
  | { id: number; error: { message: string; code?: string } };

type FromWorker = { t: 'ready'; tid: number | null } | Reply;

interface Pending {
  id: number;
  job: Job;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

interface Thread {
  owned: OwnedWorker;
  tid: number | null;
  current: Pending | null;
}

const DEFAULT_NICE_INCREMENT = 10;
const DEFAULT_IDLE_MS = 30_000;
const WORKER_URL = new URL('./background-worker.js', import.meta.url);

export class BackgroundThreads {
  readonly #maxThreads: number;
  readonly #niceIncrement: number;
  readonly #idleMs: number;
  readonly #workerUrl: URL;
  #threads: Thread[] = [];
  #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  /** `workerUrl` is for tests, which substitute a worker that fails. */
  constructor(options: BackgroundThreadOptions = {}, workerUrl: URL = WORKER_URL) {
    this.#maxThreads = positiveInteger(options.maxThreads ?? availableParallelism(), 'maxThreads');
    const nice = options.niceIncrement ?? DEFAULT_NICE_INCREMENT;
    if (!Number.isInteger(nice) || nice < 0 || nice > 39) throw new RangeError('niceIncrement must be an integer 0..39');
    this.#niceIncrement = nice;
    this.#idleMs = positiveInteger(options.idleMs ?? DEFAULT_IDLE_MS, 'idleMs');
    this.#workerUrl = workerUrl;
  }

  /** Threads running now (0 until the first job). */
  get threadCount(): number {
    return this.#threads.length;
  }

  /** OS thread ids of the threads that lowered their priority (Linux). */
  get threadIds(): number[] {
    return this.#threads.flatMap((thread) => (thread.tid === null ? [] : [thread.tid]));
  }

  /** Runs a KDF on a background thread; `job.password` is copied, the caller's buffer untouched. */
  async derive(job: KdfJob): Promise<Buffer> {
    const password = new Uint8Array(job.password.byteLength);
    password.set(job.password);
    const reply = await this.#run({ ...job, password });
    if (!('key' in reply)) throw new Error('the background thread answered a KDF with something else');
    return Buffer.from(reply.key.buffer, reply.key.byteOffset, reply.key.byteLength);
  }

  /** Generates an RSA key pair (e = 65537) on a background thread. */
  async generateRsaKey(bits: number): Promise<GeneratedRsaKey> {
    const reply = await this.#run({ kind: 'rsa', bits });
    if (!('publicKeyPem' in reply)) throw new Error('the background thread answered a key generation with something else');
    const { privateKeyDer } = reply;
    return { publicKeyPem: reply.publicKeyPem, privateKeyDer: Buffer.from(privateKeyDer.buffer, privateKeyDer.byteOffset, privateKeyDer.byteLength) };
  }

  #run(job: Job): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('the background threads were closed'));
    return new Promise<Reply>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject });
      this.#dispatch();
    });
  }

  /** Fails running and waiting jobs and ends the threads; later jobs are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const error = new Error('the background threads were closed');
    for (const pending of this.#queue.splice(0)) pending.reject(error);
    const threads = this.#threads;
    this.#threads = [];
    await Promise.all(threads.map((thread) => thread.owned.end(error)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = this.#threads.find((candidate) => candidate.current === null) ?? this.#spawnWithinLimit();
      if (thread === undefined) return;
      const pending = this.#queue.shift() as Pending;
      thread.owned.keep();
      thread.current = pending;
      thread.owned.worker.ref();
      const transfer = 'password' in pending.job ? [pending.job.password.buffer as ArrayBuffer] : [];
      thread.owned.worker.postMessage({ id: pending.id, ...pending.job }, transfer);
    }
  }

  #spawnWithinLimit(): Thread | undefined {
    if (this.#threads.length >= this.#maxThreads) return undefined;
    const thread: Thread = {
      owned: new OwnedWorker(this.#workerUrl, 'background thread', { niceIncrement: this.#niceIncrement }, {
        message: (message) => this.#onMessage(thread, message as FromWorker),
        lost: (error) => this.#onLost(thread, error),
      }),
      tid: null,
      current: null,
    };
    this.#threads.push(thread);
    return thread;
  }

  #onMessage(thread: Thread, message: FromWorker): void {
    if ('t' in message) {
      thread.tid = message.tid;
      return;
    }
    const pending = thread.current;
    if (pending === null || pending.id !== message.id) return;
    thread.current = null;
    thread.owned.worker.unref();
    if (message.error === undefined) pending.resolve(message);
    else pending.reject(Object.assign(new Error(message.error.message), message.error.code === undefined ? {} : { code: message.error.code }));
    this.#dispatch();
    // Only a thread the queue left without a job starts counting down.
    if (thread.current === null) thread.owned.retireAfter(this.#idleMs, () => thread.current === null, 'the background thread was idle');
  }

  #onLost(thread: Thread, error: Error): void {
    this.#threads = this.#threads.filter((other) => other !== thread);
    const pending = thread.current;
    thread.current = null;
    pending?.reject(error);
    if (!this.#closed) this.#dispatch();
  }
}

let shared: BackgroundThreads | undefined;

/** The process's background threads, started with the first job. */
export function backgroundThreads(): BackgroundThreads {
  return (shared ??= new BackgroundThreads());
}
