import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, type EncryptStreamOptions } from '../../src/index.ts';

/** Feeds `input` in chunks of the given sizes (cycled), like a network would. */
export function chunked(input: Buffer, sizes: readonly number[] = [input.length || 1]): Readable {
  const chunks: Buffer[] = [];
  let offset = 0;
  let i = 0;
  while (offset < input.length) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    chunks.push(input.subarray(offset, offset + size));
    offset += size;
    i += 1;
  }
  return Readable.from(chunks, { objectMode: false });
}

export async function collect(source: NodeJS.ReadableStream | Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    source,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(parts);
}

export async function through(input: Buffer, transform: Transform, sizes?: readonly number[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    chunked(input, sizes),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(parts);
}

export function encrypt(dek: Buffer, ad: Buffer, plaintext: Buffer, options?: EncryptStreamOptions, sizes?: readonly number[]): Promise<Buffer> {
  return through(plaintext, createEncryptStream(dek, ad, options), sizes);
}

export function decrypt(dek: Buffer, ad: Buffer, ciphertext: Buffer, sizes?: readonly number[], allowLegacy = false): Promise<Buffer> {
  return through(ciphertext, createDecryptStream(dek, ad, { allowLegacy }), sizes);
}
