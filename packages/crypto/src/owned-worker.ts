/**
 * The life of one worker thread in a pool of ours (the seal pool, the background
 * threads): started unref'd and without the parent's loaders (the workers are
 * plain JavaScript), ended after a spell without work, and lost exactly once,
 * whether it failed, exited, sent an unreadable message, went idle or its pool
 * closed. The pool decides what "busy" means and refs the worker while it awaits
 * a reply, so an idle pool never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';

export interface OwnedWorkerHooks {
  message(message: unknown): void;
  /** Called once, when the worker is lost for any reason; it is unref'd by then. */
  lost(error: Error): void;
}

export class OwnedWorker {
  readonly worker: Worker;
  readonly #hooks: OwnedWorkerHooks;
  #lost = false;
  #idleTimer: NodeJS.Timeout | null = null;

  /** `label` names the worker in its errors ("seal worker failed: ..."). */
  constructor(url: URL, label: string, workerData: unknown, hooks: OwnedWorkerHooks) {
    this.#hooks = hooks;
    this.worker = new Worker(url, { execArgv: [], workerData });
    this.worker.unref();
    this.worker.on('message', (message: unknown) => hooks.message(message));
    this.worker.on('error', (error) => this.lose(new Error(`${label} failed: ${error.message}`)));
    this.worker.on('messageerror', () => this.lose(new Error(`${label} sent an unreadable message`)));
    this.worker.on('exit', (code) => this.lose(new Error(`${label} exited (code ${code})`)));
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Work arrived: a pending retirement is off. */
  keep(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /**
   * No work left: end after `idleMs` unless `stillIdle()` says work came in meanwhile;
   * the loss's error says `reason` (made only if it comes to that).
   */
  retireAfter(idleMs: number, stillIdle: () => boolean, reason: string): void {
    if (this.#lost || this.#idleTimer !== null) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (!stillIdle()) return;
      this.lose(new Error(reason));
      void this.worker.terminate();
    }, idleMs);
    this.#idleTimer.unref();
  }

  lose(error: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    this.keep();
    this.worker.unref();
    this.#hooks.lost(error);
  }

  /** Loses the worker with `error`, then ends its thread. */
  async end(error: Error): Promise<void> {
    this.lose(error);
    await this.worker.terminate();
  }
}

export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
