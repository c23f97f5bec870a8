import { rsaUnwrapDek, rsaWrapDek } from '@sfe/crypto';

/**
 * The wrapped DEK of a grant, bound to the grant in the cryptography. Format v2 is one
 * version byte (0x02) and an RSA-OAEP ciphertext whose label names the grant, the
 * consultant, the file and the expiry: a wrapped key copied onto another grant, or a
 * grant whose expiry was edited in the database, no longer opens. Rows written before
 * v2 hold the bare ciphertext (an even number of bytes, the modulus size) and are v1,
 * with the empty label. Changing the label text makes every v2 grant unreadable.
 */
export const GRANT_WRAP_VERSION = 2;

export interface GrantBinding {
  id: string;
  consultantId: string;
  fileId: string;
  expiresAt: Date | null;
}

export const grantLabel = (grant: GrantBinding) =>
  Buffer.from(`sfe:grant:v2:${grant.id}:${grant.consultantId}:${grant.fileId}:${grant.expiresAt?.toISOString() ?? ''}`, 'utf8');

export async function wrapGrantDek(publicKeyPem: string, dek: Buffer, grant: GrantBinding): Promise<Buffer> {
  const ciphertext = await rsaWrapDek(publicKeyPem, dek, grantLabel(grant));
  return Buffer.concat([Buffer.from([GRANT_WRAP_VERSION]), ciphertext]);
}

/** Opens v2 (label checked) and v1 (empty label) wraps; every failure is the one opaque error. */
export function unwrapGrantDek(privateKeyDer: Buffer, wrapped: Uint8Array, grant: GrantBinding): Promise<Buffer> {
  const bytes = Buffer.from(wrapped);
  const isV2 = bytes.length % 2 === 1 && bytes[0] === GRANT_WRAP_VERSION;
  return isV2 ? rsaUnwrapDek(privateKeyDer, bytes.subarray(1), grantLabel(grant)) : rsaUnwrapDek(privateKeyDer, bytes);
}
