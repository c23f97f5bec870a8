/**
 * RSA key pairs for consultants and RSA-OAEP (SHA-256, MGF1-SHA-256) wrapping of
 * file DEKs. The OAEP label binds the wrapped key to its context (the caller's
 * associated data): a ciphertext opened under another label fails like any tamper.
 * No label means the empty label, as wraps made before labels were used. OAEP runs through WebCrypto, whose operations
 * execute on the libuv pool: a 4096-bit decrypt never blocks the event loop. Key
 * generation runs on a background thread (background-threads.ts).
 *
 * Fingerprint: 'SHA256:' + lowercase hex of SHA-256 over the DER
 * SubjectPublicKeyInfo (the `openssl pkey -pubin -outform DER` bytes).
 */
import { createHash, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { backgroundThreads } from './background-threads.ts';
import { DecryptionFailedError, InvalidKeyError } from './errors.ts';

export type RsaKeySize = 2048 | 4096;

export interface RsaKeyPair {
  publicKeyPem: string;
  /** PKCS#8 DER. */
  privateKeyDer: Buffer;
  fingerprint: string;
  algorithm: 'RSA-2048' | 'RSA-4096';
}

const OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
const DEK_LENGTH = 32;
const MIN_MODULUS_BITS = 2048;

export function generateRsaKeyPair(bits: RsaKeySize = 2048): Promise<RsaKeyPair> {
  if (bits !== 2048 && bits !== 4096) {
    return Promise.reject(new InvalidKeyError('RSA key size must be 2048 or 4096 bits'));
  }
  // On a background thread, below the priority of transfers (background-threads.ts).
  return backgroundThreads()
    .generateRsaKey(bits)
    .then(({ publicKeyPem, privateKeyDer }) => ({
      publicKeyPem,
      privateKeyDer,
      fingerprint: publicKeyFingerprint(publicKeyPem),
      algorithm: bits === 2048 ? 'RSA-2048' : 'RSA-4096',
    }));
}

function rsaPublicKey(publicKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch {
    throw new InvalidKeyError('expected an RSA public key in PEM (SubjectPublicKeyInfo)');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_MODULUS_BITS) {
    throw new InvalidKeyError(`expected an RSA public key of at least ${MIN_MODULUS_BITS} bits`);
  }
  return key;
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = spkiDer(rsaPublicKey(publicKeyPem));
  return `SHA256:${createHash('sha256').update(der).digest('hex')}`;
}

const oaepParams = (label: Uint8Array | undefined) => ({ name: 'RSA-OAEP', label: label ?? new Uint8Array(0) });

export async function rsaWrapDek(publicKeyPem: string, dek: Buffer, label?: Uint8Array): Promise<Buffer> {
  if (!Buffer.isBuffer(dek) || dek.length !== DEK_LENGTH) {
    throw new InvalidKeyError(`DEK must be ${DEK_LENGTH} bytes`);
  }
  const der = spkiDer(rsaPublicKey(publicKeyPem));
  const key = await webcrypto.subtle.importKey('spki', der, OAEP, false, ['encrypt']);
  return Buffer.from(await webcrypto.subtle.encrypt(oaepParams(label), key, dek));
}

/**
 * RSA-OAEP-SHA256 decryption of any message length (the primitive under
 * rsaUnwrapDek, exported for the known-answer tests). One opaque error for
 * every failure, including a malformed private key.
 */
export async function rsaOaepDecrypt(privateKeyDer: Buffer, ciphertext: Buffer, label?: Uint8Array): Promise<Buffer> {
  try {
    const key = await webcrypto.subtle.importKey('pkcs8', privateKeyDer, OAEP, false, ['decrypt']);
    return Buffer.from(await webcrypto.subtle.decrypt(oaepParams(label), key, ciphertext));
  } catch {
    throw new DecryptionFailedError();
  }
}

export async function rsaUnwrapDek(privateKeyDer: Buffer, wrapped: Buffer, label?: Uint8Array): Promise<Buffer> {
  const dek = await rsaOaepDecrypt(privateKeyDer, wrapped, label);
  if (dek.length !== DEK_LENGTH) throw new DecryptionFailedError();
  return dek;
}
