// @ts-check
/**
 * The thread behind kdf-threads.ts: runs one password KDF at a time, with the
 * synchronous node:crypto calls, at a lower scheduling priority than the rest
 * of the process.
 *
 * On Linux a thread's nice value is its own (setpriority(PRIO_PROCESS, tid)),
 * so at start the thread raises its own by `workerData.niceIncrement` (at most
 * to 19; an unprivileged process may always lower its priority). Elsewhere, or
 * if that fails, it runs at the process's priority and says so (`tid: null`).
 *
 * Plain JavaScript, node:* imports only, like seal-worker.js: it starts without
 * the parent's TypeScript loader.
 *
 * Protocol (one reply per job, in order):
 *   first   -> {t: 'ready', tid}               the thread's id, null if not reniced
 *   {id, kind: 'scrypt', password, salt, length, N, r, p, maxmem} -> {id, key}
 *   {id, kind: 'pbkdf2', password, salt, iterations, length}      -> {id, key}
 *   failure -> {id, error: {message, code}}    (never the inputs)
 * `password` is transferred and zeroed here once used; `key` is transferred back.
 */
import { pbkdf2Sync, scryptSync } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('kdf-worker.js runs only as a worker thread');

/**
 * @param {number} increment
 * @returns {number | null}
 */
function lowerOwnPriority(increment) {
  try {
    // "<pid>/task/<tid>" for the calling thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, Math.min(19, getPriority(tid) + increment));
    return tid;
  } catch {
    return null;
  }
}

port.postMessage({ t: 'ready', tid: lowerOwnPriority(workerData?.niceIncrement ?? 0) });

port.on('message', (/** @type {any} */ job) => {
  const password = Buffer.from(job.password.buffer, job.password.byteOffset, job.password.byteLength);
  try {
    const key =
      job.kind === 'scrypt'
        ? scryptSync(password, job.salt, job.length, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem })
        : pbkdf2Sync(password, job.salt, job.iterations, job.length, 'sha256');
    const out = new Uint8Array(key.length);
    out.set(key);
    key.fill(0);
    port.postMessage({ id: job.id, key: out }, [out.buffer]);
  } catch (error) {
    const { message, code } = /** @type {{ message?: string, code?: string }} */ (error);
    port.postMessage({ id: job.id, error: { message: String(message ?? 'KDF failed'), code } });
  } finally {
    password.fill(0);
  }
});
