// @ts-check
/**
 * The thread behind background-threads.ts: runs one slow job at a time (a password
 * KDF, an RSA key generation) with the synchronous node:crypto calls, at a lower
 * scheduling priority than the rest of the process.
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
 *   {id, kind: 'rsa', bits}  -> {id, publicKeyPem, privateKeyDer}  (SPKI PEM, PKCS#8 DER)
 *   failure -> {id, error: {message, code}}    (never the inputs)
 * `password` is transferred and zeroed here once used; `key` and `privateKeyDer`
 * are transferred back, and this thread's copies zeroed.
 */
import { generateKeyPairSync, pbkdf2Sync, scryptSync } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('background-worker.js runs only as a worker thread');

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

/** A transferable copy of `secret`; `secret` is zeroed. @param {Buffer} secret */
function handOver(secret) {
  const out = new Uint8Array(secret.length);
  out.set(secret);
  secret.fill(0);
  return out;
}

port.postMessage({ t: 'ready', tid: lowerOwnPriority(workerData?.niceIncrement ?? 0) });

/** @param {any} job */
function runJob(job) {
  if (job.kind === 'rsa') {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: job.bits,
      publicExponent: 0x10001,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    const privateKeyDer = handOver(privateKey);
    port?.postMessage({ id: job.id, publicKeyPem: publicKey, privateKeyDer }, [privateKeyDer.buffer]);
    return;
  }
  const password = Buffer.from(job.password.buffer, job.password.byteOffset, job.password.byteLength);
  try {
    const key = handOver(
      job.kind === 'scrypt'
        ? scryptSync(password, job.salt, job.length, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem })
        : pbkdf2Sync(password, job.salt, job.iterations, job.length, 'sha256'),
    );
    port?.postMessage({ id: job.id, key }, [key.buffer]);
  } finally {
    password.fill(0);
  }
}

port.on('message', (/** @type {any} */ job) => {
  try {
    runJob(job);
  } catch (error) {
    const { message, code } = /** @type {{ message?: string, code?: string }} */ (error);
    port.postMessage({ id: job.id, error: { message: String(message ?? 'the job failed'), code } });
  }
});
