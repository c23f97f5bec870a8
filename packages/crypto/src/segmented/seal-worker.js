// @ts-check
/**
 * The sealing thread behind seal-pool.ts: SHA-256 of the plaintext and AEAD
 * sealing of its segments, for any number of streams at once (one message
 * queue, so each stream's batches are handled in the order they were sent).
 *
 * Plain JavaScript on purpose: a worker thread starts without the parent's
 * TypeScript loader (seal-pool.ts passes no execArgv), so it loads in
 * production, in tests and in benches alike, and stays small. It imports
 * node:* only. The byte format is FORMAT.md's; the segment sealing matches
 * aead.ts `aeadSealPieces` call for call, and the tests compare the output with the
 * in-thread stream byte for byte.
 *
 * Protocol (types in seal-protocol.ts). Every message but `drop` gets exactly
 * one reply, `error` in place of the usual one if it failed or names a stream
 * that is gone, so the pool can count the replies it still awaits.
 *   open  {id, algorithm, key, ad, noncePrefix, segmentSize}  -> opened
 *         key: the derived file key (transferred; zeroed here once imported)
 *   data  {id, chunk, length}  one batch of plaintext (transferred) -> sealed
 *   end   {id}                 -> done, with the last segment and the hex SHA-256
 *   drop  {id}                 the stream was destroyed: forget it (no reply)
 */
import { createCipheriv, createHash, createSecretKey } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const TAG_LENGTH = 16;
const CIPHER_OPTIONS = { authTagLength: TAG_LENGTH };

/**
 * @typedef {import('./seal-protocol.ts').ToWorker} ToWorker
 * @typedef {import('./seal-protocol.ts').FromWorker} FromWorker
 * @typedef {{
 *   algorithm: 'aes-256-gcm' | 'chacha20-poly1305';
 *   key: import('node:crypto').KeyObject;
 *   ad: Buffer;
 *   nonce: Buffer;
 *   segmentSize: number;
 *   counter: number;
 *   queue: Buffer[];
 *   queued: number;
 *   hash: import('node:crypto').Hash;
 * }} StreamState
 */

/** @type {Map<number, StreamState>} */
const streams = new Map();

const port = parentPort;
if (port === null) throw new Error('seal-worker.js runs only as a worker thread');

/**
 * Seals the next `length` queued bytes as one segment into `out` at `offset`;
 * returns the offset after it. Same calls as aeadSealPieces: setAAD only for
 * non-empty associated data, update per piece, final, 16-byte tag.
 * @param {StreamState} state @param {number} length @param {boolean} last
 * @param {Buffer} out @param {number} offset
 */
function sealSegment(state, length, last, out, offset) {
  const { nonce } = state;
  if (state.counter >= 2 ** 32) throw new RangeError('segment counter out of range');
  nonce.writeUInt32BE(state.counter, 7);
  nonce.writeUInt8(last ? 1 : 0, 11);
  state.counter += 1;
  const cipher =
    state.algorithm === 'aes-256-gcm'
      ? createCipheriv('aes-256-gcm', state.key, nonce, CIPHER_OPTIONS)
      : createCipheriv('chacha20-poly1305', state.key, nonce, CIPHER_OPTIONS);
  if (state.ad.length > 0) cipher.setAAD(state.ad, { plaintextLength: length });
  let needed = length;
  let at = offset;
  while (needed > 0) {
    const head = state.queue[0];
    if (head === undefined) throw new RangeError('queue underflow');
    const piece = head.length <= needed ? head : head.subarray(0, needed);
    if (piece === head) state.queue.shift();
    else state.queue[0] = head.subarray(needed);
    needed -= piece.length;
    at += cipher.update(piece).copy(out, at);
  }
  at += cipher.final().copy(out, at);
  if (at - offset !== length) throw new Error('AEAD produced an unexpected ciphertext length');
  at += cipher.getAuthTag().copy(out, at);
  state.queued -= length;
  return at;
}

/** @param {FromWorker} message @param {ArrayBuffer[]} [transfer] */
function reply(message, transfer) {
  port?.postMessage(message, transfer ?? []);
}

/** @param {ToWorker} message */
function handle(message) {
  if (message.t === 'open') {
    const raw = Buffer.from(message.key.buffer, message.key.byteOffset, message.key.byteLength);
    const key = createSecretKey(raw);
    raw.fill(0);
    const nonce = Buffer.alloc(12);
    Buffer.from(message.noncePrefix).copy(nonce, 0);
    streams.set(message.id, {
      algorithm: message.algorithm,
      key,
      ad: Buffer.from(message.ad),
      nonce,
      segmentSize: message.segmentSize,
      counter: 0,
      queue: [],
      queued: 0,
      hash: createHash('sha256'),
    });
    reply({ t: 'opened', id: message.id });
    return;
  }
  if (message.t === 'drop') {
    streams.delete(message.id);
    return;
  }
  const state = streams.get(message.id);
  // Dropped while this message was on its way, or failed earlier.
  if (state === undefined) throw new Error('no such stream');
  if (message.t === 'data') {
    const chunk = Buffer.from(message.chunk, 0, message.length);
    state.hash.update(chunk);
    if (chunk.length > 0) {
      state.queue.push(chunk);
      state.queued += chunk.length;
    }
    // A segment is sealed only once a byte beyond it is here: it is then not the last.
    const { segmentSize } = state;
    const count = state.queued > segmentSize ? Math.floor((state.queued - 1) / segmentSize) : 0;
    const out = Buffer.allocUnsafeSlow(count * (segmentSize + TAG_LENGTH));
    let offset = 0;
    for (let i = 0; i < count; i++) offset = sealSegment(state, segmentSize, false, out, offset);
    reply({ t: 'sealed', id: message.id, sealed: out.buffer, length: offset }, [out.buffer]);
    return;
  }
  // end: the rest (0..segmentSize bytes) is the last segment.
  const out = Buffer.allocUnsafeSlow(state.queued + TAG_LENGTH);
  const length = sealSegment(state, state.queued, true, out, 0);
  const sha256 = state.hash.digest('hex');
  streams.delete(message.id);
  reply({ t: 'done', id: message.id, sealed: out.buffer, length, sha256 }, [out.buffer]);
}

port.on('message', (/** @type {ToWorker} */ message) => {
  try {
    handle(message);
  } catch (error) {
    streams.delete(message.id);
    if (message.t === 'drop') return;
    reply({ t: 'error', id: message.id, message: error instanceof Error ? error.message : 'sealing failed' });
  }
});
