/** Messages between seal-pool.ts and the sealing thread (seal-worker.js). */
import type { AeadAlgorithm } from '../aead.ts';

export type ToWorker =
  | {
      t: 'open';
      id: number;
      algorithm: AeadAlgorithm;
      /** The derived file key in its own buffer, transferred: the sender keeps no copy. */
      key: Uint8Array;
      ad: Uint8Array;
      noncePrefix: Uint8Array;
      segmentSize: number;
    }
  | { t: 'data'; id: number; chunk: ArrayBuffer; length: number }
  | { t: 'end'; id: number }
  | { t: 'drop'; id: number };

export type FromWorker =
  | { t: 'opened'; id: number }
  | { t: 'sealed'; id: number; sealed: ArrayBuffer; length: number }
  | { t: 'done'; id: number; sealed: ArrayBuffer; length: number; sha256: string }
  | { t: 'error'; id: number; message: string };
