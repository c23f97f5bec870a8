import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { extract as tarExtract, pack as tarPack, type Pack } from 'tar-stream';
import { ArchiveFormatError } from './backup.errors.ts';

// The archive's plaintext is a plain ustar/pax stream (tar-stream), so whoever
// decrypts it (README.md) can list or unpack it with any tar. Entries are written
// and read strictly one after another, each streamed, never held whole.

export interface WrittenPart {
  name: string;
  size: number;
  sha256: string;
}

export interface ArchiveWriter {
  /**
   * The tar bytes, to encrypt. A plain generator: Node's pipeline would take
   * tar-stream's streamx Readable for a legacy stream and pipe() it.
   */
  readonly output: AsyncIterable<Buffer>;
  /** Streams one entry of exactly `size` bytes; resolves once it is in the archive. */
  entry(name: string, size: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<WrittenPart>;
  /** Ends the tar stream: two zero blocks after the last entry. */
  finalize(): void;
  /** Makes a pending entry() fail, e.g. when the encrypted output failed. */
  destroy(error: Error): void;
}

export function createArchiveWriter(mtime: Date): ArchiveWriter {
  const pack: Pack = tarPack();
  return {
    output: buffersOf(pack),
    async entry(name, size, source) {
      const digest = createHash('sha256');
      let written = 0;
      await new Promise<void>((resolve, reject) => {
        // Settled by tar-stream once the entry is complete or the pack failed; either
        // way the copy loop below must stop waiting and release its source.
        const settled = new AbortController();
        const sink = pack.entry({ name, size, mode: 0o600, mtime, uid: 0, gid: 0, type: 'file' }, (error) => {
          settled.abort();
          if (error) reject(error);
          else resolve();
        });
        void (async () => {
          for await (const chunk of source) {
            digest.update(chunk);
            written += chunk.length;
            if (!sink.write(chunk)) await once(sink, 'drain', { signal: settled.signal });
          }
          // streamx's typings want an argument; null ends the stream without writing.
          sink.end(null);
        })().catch((error: unknown) => {
          if (!settled.signal.aborted) sink.destroy(asError(error));
          reject(error);
        });
      });
      // tar-stream also refuses a size mismatch; this names the part.
      if (written !== size) throw new Error(`part ${name} changed size while it was archived`);
      return { name, size, sha256: digest.digest('hex') };
    },
    finalize: () => pack.finalize(),
    destroy: (error) => pack.destroy(error),
  };
}

export interface ArchiveEntry {
  name: string;
  size: number;
  /** Must be read to its end before the next entry is asked for. */
  body: AsyncIterable<Buffer>;
}

/**
 * The entries of a tar stream. Only regular files: links, devices and directories
 * have no place in an archive we wrote. Rejects with whatever `plaintext` fails with
 * (a DecryptionFailedError for a truncated or altered archive).
 */
export async function* readArchiveEntries(plaintext: AsyncIterable<Buffer>): AsyncGenerator<ArchiveEntry> {
  const extract = tarExtract();
  const stop = new AbortController();
  const feeding = (async () => {
    for await (const chunk of plaintext) {
      if (!extract.write(chunk)) await once(extract, 'drain', { signal: stop.signal });
    }
    extract.end(null);
  })();
  feeding.catch((error: unknown) => extract.destroy(asError(error)));
  try {
    for await (const entry of extract) {
      const { name, size, type } = entry.header;
      if (type !== 'file') throw new ArchiveFormatError(`unexpected ${type} entry ${JSON.stringify(name)}`);
      yield { name, size, body: buffersOf(entry) };
    }
    await feeding;
  } finally {
    // The caller destroys `plaintext`, which ends the feeding loop if it is still waiting.
    stop.abort();
    extract.destroy();
  }
}

/** streamx types its chunks as unknown; in Node they are Buffers. */
async function* buffersOf(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new TypeError('tar stream produced a non-binary chunk');
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
