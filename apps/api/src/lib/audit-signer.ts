import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface AuditSigner {
  /** Non-secret id of the key: first 16 hex chars of SHA-256 over its SPKI DER. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** base64 Ed25519 signature over the UTF-8 bytes of `message`. */
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
}

/** Ed25519 from the configured 32-byte seed (64 hex chars). */
export function createAuditSigner(seedHex: string): AuditSigner {
  const seed = Buffer.from(seedHex, 'hex');
  if (seed.length !== 32) throw new Error('the audit signing key must be a 32-byte seed');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  seed.fill(0);
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    keyId: createHash('sha256').update(spki).digest('hex').slice(0, 16),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (message) => sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64'),
    verify: (message, signature) => verifyWith(publicKey, message, signature),
  };
}

/** Offline check, as a holder of the public key alone does it. */
export function verifyAuditSignature(publicKeyPem: string, message: string, signature: string): boolean {
  return verifyWith(createPublicKey(publicKeyPem), message, signature);
}

function verifyWith(publicKey: KeyObject, message: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64) return false;
  return verify(null, Buffer.from(message, 'utf8'), publicKey, bytes);
}

/**
 * The exact bytes an erasure certificate's signature covers: its fields in a fixed
 * order as a JSON array, so anyone can rebuild them from the certificate itself.
 */
export function erasureCertificateMessage(c: {
  userId: string;
  erasedAt: string;
  privateKeyDestroyed: boolean;
  filesShredded: number;
  grantsRevoked: number;
  keyId: string;
}): string {
  return JSON.stringify(['sfe-erasure-v1', c.userId, c.erasedAt, c.privateKeyDestroyed, c.filesShredded, c.grantsRevoked, c.keyId]);
}

export function checkpointMessage(c: { seq: number; hash: string; createdAt: Date; keyId: string; reason: string }): string {
  return JSON.stringify(['sfe-audit-checkpoint-v1', c.seq, c.hash, c.createdAt.toISOString(), c.keyId, c.reason]);
}
