import { fileURLToPath } from 'node:url';
import type { FileAlgorithm } from '../../src/index.ts';
import { createEncryptStreamWithRandomness } from '../../src/segmented/encrypt.ts';
import { through } from '../helpers/streams.ts';

/** Fixed, public test parameters (never real keys). */
export const KAT = {
  dek: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  associatedData: Buffer.from('file:kat-0001').toString('hex'),
  salt: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
  noncePrefix: 'c0c1c2c3c4c5c6',
  segmentSize: 32,
  plaintext: Buffer.from('SFE known-answer file: four segments, 100 bytes: the last one is partial; the rest are full......end').toString('hex'),
};

export function katPath(algorithm: FileAlgorithm): string {
  return fileURLToPath(new URL(`./format-kat-${algorithm}.bin`, import.meta.url));
}

export function katCiphertext(algorithm: FileAlgorithm): Promise<Buffer> {
  const stream = createEncryptStreamWithRandomness(
    Buffer.from(KAT.dek, 'hex'),
    Buffer.from(KAT.associatedData, 'hex'),
    { algorithm, segmentSize: KAT.segmentSize },
    { salt: Buffer.from(KAT.salt, 'hex'), noncePrefix: Buffer.from(KAT.noncePrefix, 'hex') },
  );
  return through(Buffer.from(KAT.plaintext, 'hex'), stream, [7]);
}
