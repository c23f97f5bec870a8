import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30;
const DIGITS = 6;
/** One step either side of the server's clock is accepted (a phone's clock drifts). */
export const TOTP_WINDOW = 1;

const totpOf = (secret: Buffer, label = '', issuer = '') =>
  new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: new Secret({ buffer: new Uint8Array(secret).buffer }) });

export const newTotpSecret = () => randomBytes(32);

/** What the authenticator app needs: the base32 secret and the otpauth:// URL a QR code carries. */
export function totpEnrolment(secret: Buffer, issuer: string, username: string) {
  const totp = totpOf(secret, username, issuer);
  return { secret: totp.secret.base32, otpauthUrl: totp.toString() };
}

/**
 * The time step `code` is valid for (within the window), or null. The library
 * compares in constant time; the caller then accepts each step at most once.
 */
export function totpStepOf(secret: Buffer, code: string, now: Date): number | null {
  const totp = totpOf(secret);
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: TOTP_WINDOW });
  if (delta === null) return null;
  return totp.counter({ timestamp: now.getTime() }) + delta;
}
