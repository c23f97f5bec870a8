/**
 * Passphrase-encrypted KEK backup that an operator can open with OpenSSL alone:
 *
 *   openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 -a -in kek-backup.txt
 *
 * Format (exactly what `openssl enc -aes-256-cbc -pbkdf2 -iter N -md sha256 -a`
 * writes): base64, 64-character lines, of "Salted__" || salt(8) || ciphertext,
 * where key(32) || iv(16) = PBKDF2-HMAC-SHA256(passphrase UTF-8, salt, N, 48)
 * and ciphertext = AES-256-CBC with PKCS#7 padding of the 64 lowercase hex
 * characters of the KEK followed by "\n". N is not stored (OpenSSL's format
 * has no place for it): the operator must know it; the default is
 * KEK_BACKUP_ITERATIONS. CBC without a MAC is what OpenSSL offers here; the
 * decoded KEK is checked strictly, so a wrong passphrase is still reported.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidKeyError, WrongPasswordError } from './errors.ts';
import { parseKek } from './envelope.ts';
import { pbkdf2Sha256 } from './kdf.ts';

export const KEK_BACKUP_ITERATIONS = 600_000;
export const KEK_BACKUP_MIN_PASSPHRASE_LENGTH = 12;
const MAGIC = Buffer.from('Salted__', 'ascii');
const SALT_LENGTH = 8;
const MIN_ITERATIONS = 10_000;
const MAX_ITERATIONS = 10_000_000;

function checkIterations(iterations: number): number {
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new InvalidKeyError(`backup iterations must be an integer from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`);
  }
  return iterations;
}

async function deriveKeyAndIv(passphrase: string, salt: Buffer, iterations: number): Promise<{ key: Buffer; iv: Buffer }> {
  const material = await pbkdf2Sha256(Buffer.from(passphrase, 'utf8'), salt, iterations, 48);
  return { key: material.subarray(0, 32), iv: material.subarray(32, 48) };
}

export async function exportKekBackup(
  kek: Buffer,
  passphrase: string,
  options: { iterations?: number } = {},
): Promise<string> {
  if (!Buffer.isBuffer(kek) || kek.length !== 32) throw new InvalidKeyError('KEK must be 32 bytes');
  if (typeof passphrase !== 'string' || [...passphrase].length < KEK_BACKUP_MIN_PASSPHRASE_LENGTH) {
    throw new InvalidKeyError(`backup passphrase must be at least ${KEK_BACKUP_MIN_PASSPHRASE_LENGTH} characters`);
  }
  const iterations = checkIterations(options.iterations ?? KEK_BACKUP_ITERATIONS);
  const salt = randomBytes(SALT_LENGTH);
  const { key, iv } = await deriveKeyAndIv(passphrase, salt, iterations);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const plaintext = Buffer.from(`${kek.toString('hex')}\n`, 'ascii');
  const blob = Buffer.concat([MAGIC, salt, cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  const lines = blob.toString('base64').match(/.{1,64}/g) ?? [];
  return `${lines.join('\n')}\n`;
}

export async function importKekBackup(
  text: string,
  passphrase: string,
  options: { iterations?: number } = {},
): Promise<Buffer> {
  const iterations = checkIterations(options.iterations ?? KEK_BACKUP_ITERATIONS);
  const compact = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new InvalidKeyError('KEK backup must be base64 text as written by openssl enc -a');
  }
  const blob = Buffer.from(compact, 'base64');
  const ciphertextLength = blob.length - MAGIC.length - SALT_LENGTH;
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC) || ciphertextLength < 16 || ciphertextLength % 16 !== 0) {
    throw new InvalidKeyError('KEK backup is not an OpenSSL "Salted__" AES-256-CBC file');
  }
  const salt = blob.subarray(MAGIC.length, MAGIC.length + SALT_LENGTH);
  const { key, iv } = await deriveKeyAndIv(passphrase, salt, iterations);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    plaintext = Buffer.concat([decipher.update(blob.subarray(MAGIC.length + SALT_LENGTH)), decipher.final()]);
  } catch {
    throw new WrongPasswordError();
  }
  // Padding alone is a weak check (a wrong passphrase passes it ~1/256 of the time).
  const content = plaintext.toString('latin1');
  plaintext.fill(0);
  if (!/^[0-9a-fA-F]{64}\n?$/.test(content)) throw new WrongPasswordError();
  return parseKek(content.slice(0, 64));
}
