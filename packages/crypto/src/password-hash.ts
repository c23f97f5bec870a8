/**
 * Login password hashing with scrypt in a self-describing PHC-style string:
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 unpadded>$<hash, base64 unpadded>
 * (ln = log2 N). The password is hashed as UTF-8 exactly as given: never
 * truncated, never normalised. Parameters read from a stored string are
 * bounded so a crafted record cannot demand unbounded memory or time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidKeyError } from './errors.ts';
import { scryptKey } from './kdf.ts';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const SCRYPT_DEFAULTS: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const SALT_LENGTH = 16;
const HASH_LENGTH = 32;
const MAX_MEMORY = 1024 * 1024 * 1024;
const PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{22,88})$/;

function checkParams(params: ScryptParams): void {
  const { N, r, p } = params;
  const ln = Math.log2(N);
  const valid =
    Number.isInteger(ln) && ln >= 10 && ln <= 22 &&
    Number.isInteger(r) && r >= 1 && r <= 32 &&
    Number.isInteger(p) && p >= 1 && p <= 16 &&
    128 * N * r <= MAX_MEMORY;
  if (!valid) {
    throw new InvalidKeyError(
      'scrypt parameters must be N = 2^10..2^22, r = 1..32, p = 1..16, at most 1 GiB of memory',
    );
  }
}

interface Decoded {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decode(encoded: string): Decoded {
  const match = typeof encoded === 'string' ? PATTERN.exec(encoded) : null;
  if (match === null) throw new InvalidKeyError('malformed password hash (expected $scrypt$ln=..,r=..,p=..$salt$hash)');
  const [, ln, r, p, salt, hash] = match;
  const params = { N: 2 ** Number(ln), r: Number(r), p: Number(p) };
  checkParams(params);
  const decoded = { params, salt: Buffer.from(salt ?? '', 'base64'), hash: Buffer.from(hash ?? '', 'base64') };
  if (decoded.salt.length < 8 || decoded.hash.length < 16) {
    throw new InvalidKeyError('malformed password hash (salt or hash too short)');
  }
  return decoded;
}

function encode(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `$scrypt$ln=${Math.log2(params.N)},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_DEFAULTS): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_LENGTH);
  return encode(params, salt, await scryptKey(Buffer.from(password, 'utf8'), salt, params, HASH_LENGTH));
}

/**
 * A well-formed hash that no password matches (a random salt and a random digest,
 * which no scrypt output equals but with probability 2^-256): verifying against it
 * costs exactly what verifying against a real hash with `params` costs, without
 * hashing anything to make it. For sign-ins with an unknown username.
 */
export function unmatchablePasswordHash(params: ScryptParams = SCRYPT_DEFAULTS): string {
  checkParams(params);
  return encode(params, randomBytes(SALT_LENGTH), randomBytes(HASH_LENGTH));
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const { params, salt, hash } = decode(encoded);
  const candidate = await scryptKey(Buffer.from(password, 'utf8'), salt, params, hash.length);
  return timingSafeEqual(candidate, hash);
}

/** True when the stored parameters are weaker than `params` in any dimension. */
export function passwordHashNeedsUpgrade(encoded: string, params: ScryptParams = SCRYPT_DEFAULTS): boolean {
  const stored = decode(encoded).params;
  return stored.N < params.N || stored.r < params.r || stored.p < params.p;
}
