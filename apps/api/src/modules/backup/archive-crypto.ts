import { randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { createDecryptStream, createEncryptStream, scryptKey } from '@sfe/crypto';
import { ArchiveFormatError, BackupRefusedError } from './backup.errors.ts';

// The plaintext header at the front of an archive and the passphrase key. The
// header is the associated data of the whole segmented stream behind it, so a
// changed salt or cost fails the first segment like any other flipped byte.

export const ARCHIVE_MAGIC = Buffer.from('SFEBAK', 'ascii');
export const ARCHIVE_VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_LENGTH = 32;
/** magic(6) version(1) kdf(1) log2N(1) r(1) p(1) salt(32) */
export const ARCHIVE_HEADER_LENGTH = ARCHIVE_MAGIC.length + 5 + SALT_LENGTH;
const KEY_LENGTH = 32;

export interface ScryptParameters {
  log2N: number;
  r: number;
  p: number;
}

/** OWASP's scrypt baseline (N = 2^17, 128 MiB): one derivation per backup or restore. */
export const DEFAULT_SCRYPT: ScryptParameters = Object.freeze({ log2N: 17, r: 8, p: 1 });
// Bounds for a header we did not write: a hostile one must not make us allocate gigabytes.
const LIMITS = { log2N: [14, 20], r: [1, 16], p: [1, 4] } as const;

export const MIN_PASSPHRASE_LENGTH = 12;

export interface ArchiveHeader {
  readonly scrypt: ScryptParameters;
  readonly salt: Buffer;
  /** The exact bytes, as written and as bound into every segment. */
  readonly bytes: Buffer;
}

export function newArchiveHeader(scrypt: ScryptParameters = DEFAULT_SCRYPT): ArchiveHeader {
  checkScrypt(scrypt);
  const bytes = Buffer.alloc(ARCHIVE_HEADER_LENGTH);
  let offset = ARCHIVE_MAGIC.copy(bytes, 0);
  for (const value of [ARCHIVE_VERSION, KDF_SCRYPT, scrypt.log2N, scrypt.r, scrypt.p]) offset = bytes.writeUInt8(value, offset);
  randomBytes(SALT_LENGTH).copy(bytes, offset);
  return parseArchiveHeader(bytes);
}

/** Lengths and values are checked before anything is sliced or derived. */
export function parseArchiveHeader(input: Buffer): ArchiveHeader {
  if (input.length < ARCHIVE_MAGIC.length || !input.subarray(0, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC)) {
    throw new ArchiveFormatError('not an SFE backup archive (no SFEBAK header)');
  }
  if (input.length < ARCHIVE_HEADER_LENGTH) throw new BackupRefusedError('incomplete', 'the archive is truncated: its header is incomplete');
  const at = ARCHIVE_MAGIC.length;
  if (input.readUInt8(at) !== ARCHIVE_VERSION) throw new ArchiveFormatError(`unsupported archive version ${input.readUInt8(at)}`);
  if (input.readUInt8(at + 1) !== KDF_SCRYPT) throw new ArchiveFormatError('unsupported key derivation in the archive header');
  const scrypt = { log2N: input.readUInt8(at + 2), r: input.readUInt8(at + 3), p: input.readUInt8(at + 4) };
  if (!isWithinLimits(scrypt)) throw new ArchiveFormatError('the archive header asks for out-of-range scrypt parameters');
  const bytes = Buffer.from(input.subarray(0, ARCHIVE_HEADER_LENGTH));
  return { scrypt, salt: bytes.subarray(at + 5), bytes };
}

/**
 * The archive key. NFC first, so the same passphrase typed on another system (other
 * Unicode normalization) still opens the archive.
 */
export function deriveArchiveKey(passphrase: string, header: ArchiveHeader): Promise<Buffer> {
  const { log2N, r, p } = header.scrypt;
  return scryptKey(Buffer.from(passphrase.normalize('NFC'), 'utf8'), header.salt, { N: 2 ** log2N, r, p }, KEY_LENGTH);
}

export function isLongEnough(passphrase: string): boolean {
  return typeof passphrase === 'string' && [...passphrase.normalize('NFC')].length >= MIN_PASSPHRASE_LENGTH;
}

export const encryptArchive = (key: Buffer, header: ArchiveHeader): Transform => createEncryptStream(key, header.bytes);
export const decryptArchive = (key: Buffer, header: ArchiveHeader): Transform => createDecryptStream(key, header.bytes);

function isWithinLimits(scrypt: ScryptParameters): boolean {
  return (Object.keys(LIMITS) as Array<keyof ScryptParameters>).every((name) => {
    const [min, max] = LIMITS[name];
    return Number.isInteger(scrypt[name]) && scrypt[name] >= min && scrypt[name] <= max;
  });
}

function checkScrypt(scrypt: ScryptParameters): void {
  if (!isWithinLimits(scrypt)) throw new RangeError('scrypt parameters out of range');
}
