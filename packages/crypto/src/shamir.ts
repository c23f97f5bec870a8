/**
 * Shamir's secret sharing of a KEK, using the audited shamir-secret-sharing
 * package for the arithmetic. This file only encodes shares for humans:
 *
 *   sfe-share-2-<label>-<index>of<threshold>-<payload hex>-<checksum hex>
 *   index    = the share's number in its split, 1..N (the library picks the x
 *              coordinates at random; they are inside the share bytes)
 *   payload  = threshold(1) || check(8) || share bytes (secret length + 1)
 *   check    = first 8 bytes of SHA-256("SFE shamir check v1" || secret)
 *   checksum = first 4 bytes of SHA-256 of everything before "-<checksum>"
 *
 * The label (e.g. the KEK's key id), index and threshold are in clear so a custodian
 * can tell which key a share belongs to and how many are needed; they are covered by
 * the checksum and must agree with the payload. Version 1 shares
 * (sfe-share-1-<payload hex>-<checksum of payload>) are still read.
 *
 * The checksum catches a mistyped share; the check catches shares from
 * different splits or too few shares, which the library cannot detect. The
 * check is a hash of the secret: fine for uniformly random keys (what this
 * is for), not for low-entropy secrets.
 */
import { createHash } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { InvalidKeyError, InvalidShareError } from './errors.ts';

const PREFIX = 'sfe-share-2-';
const LABEL = /^[a-z0-9_]{1,40}$/;
const CHECK_LABEL = Buffer.from('SFE shamir check v1', 'ascii');
const CHECK_LENGTH = 8;
const CHECKSUM_LENGTH = 4;
const MAX_SECRET_LENGTH = 1024;

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function secretCheck(secret: Uint8Array): Buffer {
  return sha256(CHECK_LABEL, Buffer.from(secret)).subarray(0, CHECK_LENGTH);
}

function encodeShare(label: string, index: number, threshold: number, check: Buffer, share: Uint8Array): string {
  const payload = Buffer.concat([Buffer.from([threshold]), check, Buffer.from(share)]);
  const body = `${PREFIX}${label}-${index}of${threshold}-${payload.toString('hex')}`;
  return `${body}-${sha256(Buffer.from(body, 'ascii')).subarray(0, CHECKSUM_LENGTH).toString('hex')}`;
}

interface DecodedShare {
  label: string | null;
  index: number;
  threshold: number;
  check: Buffer;
  share: Uint8Array;
}

/** What a share says about itself: which secret (label), its index and the threshold. */
export interface ShareInfo {
  label: string | null;
  index: number;
  threshold: number;
}

function decodeShare(text: string, position: number): DecodedShare {
  const malformed = (why: string): InvalidShareError =>
    new InvalidShareError(`share ${position} ${why}`);
  if (typeof text !== 'string') throw malformed('is not a string');
  // Operators may paste shares with spaces or line breaks.
  const compact = text.replace(/\s+/g, '').toLowerCase();
  const v2 = /^(sfe-share-2-([a-z0-9_]{1,40})-(\d{1,3})of(\d{1,3})-([0-9a-f]+))-([0-9a-f]{8})$/.exec(compact);
  const v1 = v2 ? null : /^sfe-share-1-([0-9a-f]+)-([0-9a-f]{8})$/.exec(compact);
  const hex = v2 ? v2[5] : v1?.[1];
  if (hex === undefined || hex.length % 2 !== 0) {
    throw malformed('is malformed (expected sfe-share-2-<label>-<i>of<k>-<hex>-<8 hex checksum>)');
  }
  const payload = Buffer.from(hex, 'hex');
  const summed = v2 ? Buffer.from(v2[1] ?? '', 'ascii') : payload;
  const checksum = Buffer.from((v2 ? v2[6] : v1?.[2]) ?? '', 'hex');
  if (!sha256(summed).subarray(0, CHECKSUM_LENGTH).equals(checksum)) {
    throw malformed('has a wrong checksum (mistyped?)');
  }
  if (payload.length < 1 + CHECK_LENGTH + 2) throw malformed('is too short');
  const share = new Uint8Array(payload.subarray(1 + CHECK_LENGTH));
  const decoded: DecodedShare = {
    label: v2 ? (v2[2] ?? null) : null,
    index: v2 ? Number(v2[3]) : 0,
    threshold: payload.readUInt8(0),
    check: payload.subarray(1, 1 + CHECK_LENGTH),
    share,
  };
  if (v2 && Number(v2[4]) !== decoded.threshold) {
    throw malformed('names a threshold that its content contradicts');
  }
  return decoded;
}

/** Reads a share's label, index and threshold (checksum verified); names the share on failure. */
export function describeShare(text: string, position = 1): ShareInfo {
  const { label, index, threshold } = decodeShare(text, position);
  return { label, index, threshold };
}

export async function splitSecret(secret: Buffer, shares: number, threshold: number, label = 'secret'): Promise<string[]> {
  if (typeof label !== 'string' || !LABEL.test(label)) throw new InvalidKeyError('share label must be 1-40 of a-z, 0-9, _');
  if (!Buffer.isBuffer(secret) || secret.length < 1 || secret.length > MAX_SECRET_LENGTH) {
    throw new InvalidKeyError(`secret must be 1..${MAX_SECRET_LENGTH} bytes`);
  }
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || shares < threshold || shares > 255) {
    throw new InvalidKeyError('need 2 <= threshold <= shares <= 255');
  }
  const parts = await split(new Uint8Array(secret), shares, threshold);
  const check = secretCheck(secret);
  return parts.map((part, i) => encodeShare(label, i + 1, threshold, check, part));
}

export async function combineShares(shares: string[]): Promise<Buffer> {
  const decoded = shares.map((share, index) => decodeShare(share, index + 1));
  const first = decoded[0];
  if (first === undefined) throw new InvalidShareError('no shares given');
  decoded.forEach((share, index) => {
    if (share.threshold !== first.threshold || share.label !== first.label || !share.check.equals(first.check) || share.share.length !== first.share.length) {
      throw new InvalidShareError(`share ${index + 1} belongs to a different split than share 1`);
    }
  });
  if (decoded.length < first.threshold) {
    throw new InvalidShareError(`need at least ${first.threshold} shares, got ${decoded.length}`);
  }
  const xs = new Set(decoded.map((share) => share.share[share.share.length - 1]));
  if (xs.size !== decoded.length) throw new InvalidShareError('the same share was given twice');
  let secret: Buffer;
  try {
    secret = Buffer.from(await combine(decoded.map((share) => share.share)));
  } catch {
    throw new InvalidShareError('the shares could not be combined');
  }
  if (!secretCheck(secret).equals(first.check)) {
    throw new InvalidShareError('the shares do not reconstruct the secret');
  }
  return secret;
}
