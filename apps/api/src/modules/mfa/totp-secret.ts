import { UnknownKeyIdError, unwrapDek, wrapDek, wrappedDekKeyId, type KekRing } from '@sfe/crypto';
import { kekUnavailable } from '../../lib/errors.ts';

/**
 * A TOTP secret is 32 random bytes (HMAC-SHA1 key, RFC 4226 asks for at least 16),
 * wrapped under the KEK ring exactly like a file's DEK, bound to its user by the
 * associated data: a wrapped secret copied to another user's row does not open.
 * Changing this string makes every stored secret unreadable: it is storage format.
 */
export const totpSecretAssociatedData = (userId: string) => Buffer.from(`sfe:totp-secret:v1:${userId}`, 'utf8');

export function wrapTotpSecret(ring: KekRing, userId: string, secret: Buffer): { wrapped: Buffer; kekId: string } {
  const wrapped = wrapDek(ring, secret, totpSecretAssociatedData(userId));
  return { wrapped, kekId: wrappedDekKeyId(wrapped) };
}

/** The secret, or KEK_UNAVAILABLE when its key id is not configured; any other failure stays the crypto package's opaque error. */
export function unwrapTotpSecret(ring: KekRing, userId: string, wrapped: Uint8Array): Buffer {
  try {
    return unwrapDek(ring, Buffer.from(wrapped), totpSecretAssociatedData(userId));
  } catch (error) {
    if (error instanceof UnknownKeyIdError) throw kekUnavailable();
    throw error;
  }
}
