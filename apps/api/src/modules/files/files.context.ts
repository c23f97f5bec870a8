import { UnknownKeyIdError, unwrapDek, type KekRing } from '@sfe/crypto';
import { kekUnavailable } from '../../lib/errors.ts';

/**
 * Associated data binding ciphertexts to their file. Changing these strings makes
 * every stored file unreadable: they are part of the storage format.
 */
export const blobAssociatedData = (fileId: string) => Buffer.from(`sfe:blob:v1:${fileId}`, 'utf8');
export const dekAssociatedData = (fileId: string) => Buffer.from(`sfe:file-dek:v1:${fileId}`, 'utf8');

/**
 * The one place a file's DEK is unwrapped with the KEK ring. A key id missing from
 * the ring is an operator problem (KEK_UNAVAILABLE, 503), never a 500 and never a
 * "not found"; any other failure is the crypto package's one opaque error.
 */
export function unwrapFileDek(ring: KekRing, fileId: string, wrappedKey: Uint8Array): Buffer {
  try {
    return unwrapDek(ring, Buffer.from(wrappedKey), dekAssociatedData(fileId));
  } catch (error) {
    if (error instanceof UnknownKeyIdError) throw kekUnavailable();
    throw error;
  }
}
