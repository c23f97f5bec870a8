import { KeyStoreError, keyFieldsOf } from './key-store.ts';
import type { KeyAlgorithm, KeyMaterial, NewPrivateKeyRecord, PrivateKeyRecord } from './key-store.ts';

// Both adapters check their input the same way, so a caller bug behaves the same
// on either backend, and no object can reach a Mongo filter as a query operator.

const ALGORITHMS: ReadonlySet<string> = new Set<KeyAlgorithm>(['RSA-2048', 'RSA-4096']);
const MAX_ID_LENGTH = 256;

export function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_ID_LENGTH) {
    throw new TypeError('userId must be a non-empty string of at most 256 characters');
  }
}

export function assertFingerprint(fingerprint: unknown, what = 'fingerprint'): asserts fingerprint is string {
  if (typeof fingerprint !== 'string' || fingerprint.length === 0 || fingerprint.length > MAX_ID_LENGTH) {
    throw new TypeError(`${what} must be a non-empty string of at most 256 characters`);
  }
}

export function assertBytes(value: unknown, what: string): void {
  if (!Buffer.isBuffer(value) || value.length === 0) throw new TypeError(`${what} must be a non-empty Buffer`);
}

export function assertNewRecord(record: NewPrivateKeyRecord): void {
  assertUserId(record.userId);
  assertKeyMaterial(record);
  if (record.previous !== undefined && record.previous !== null) {
    assertKeyMaterial(record.previous, 'previous.');
    if (record.previous.fingerprint === record.fingerprint) throw new TypeError('previous must be another key pair');
  }
}

function assertKeyMaterial(record: KeyMaterial, prefix = ''): void {
  if (typeof record !== 'object' || record === null) throw new TypeError(`${prefix || 'record'} must be an object`);
  const assertField = (value: unknown, what: string) => assertBytes(value, `${prefix}${what}`);
  assertField(record.encryptedPrivateKey, 'encryptedPrivateKey');
  assertField(record.salt, 'salt');
  assertField(record.nonce, 'nonce');
  if (record.cipher !== 'aes-256-gcm') throw new TypeError(`${prefix}cipher must be aes-256-gcm`);
  if (record.kdf !== 'pbkdf2-sha256') throw new TypeError(`${prefix}kdf must be pbkdf2-sha256`);
  if (!Number.isSafeInteger(record.iterations) || record.iterations < 1) {
    throw new TypeError(`${prefix}iterations must be a positive integer`);
  }
  if (!ALGORITHMS.has(record.algorithm)) throw new TypeError(`${prefix}algorithm must be RSA-2048 or RSA-4096`);
  assertFingerprint(record.fingerprint, `${prefix}fingerprint`);
}

/** A whole record from a backup: the key fields as for insert, plus sane dates and counters. */
export function assertRestoredRecord(record: PrivateKeyRecord): void {
  assertNewRecord(keyFieldsOf(record));
  if (!isValidDate(record.createdAt)) throw new TypeError('createdAt must be a valid Date');
  if (record.lastAccessed !== null && !isValidDate(record.lastAccessed)) throw new TypeError('lastAccessed must be null or a valid Date');
  if (!Number.isSafeInteger(record.accessCount) || record.accessCount < 0) {
    throw new TypeError('accessCount must be a non-negative integer');
  }
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** Records per page of listAll(): bounds memory and how long one read holds the store. */
export const LIST_PAGE_SIZE = 256;

/** The stored shape: snake_case field names, as in both backends. */
export interface StoredFields {
  user_id: string;
  encrypted_private_key: Buffer;
  salt: Buffer;
  nonce: Buffer;
  cipher: string;
  kdf: string;
  iterations: number;
  algorithm: string;
  fingerprint: string;
  /** The previous key pair's fields (same names, no user_id), or null. */
  previous: StoredKeyMaterial | null;
  created_at: Date;
  last_accessed: Date | null;
  access_count: number;
}

export type StoredKeyMaterial = Omit<StoredKeyFields, 'user_id' | 'previous'>;

/** Narrows what a backend returned; a row that fails this is corrupt, not a caller error. */
export function toRecord(fields: StoredFields): PrivateKeyRecord {
  return {
    userId: fields.user_id,
    ...toKeyMaterial(fields),
    previous: fields.previous === null || fields.previous === undefined ? null : toKeyMaterial(fields.previous),
    createdAt: fields.created_at,
    lastAccessed: fields.last_accessed,
    accessCount: fields.access_count,
  };
}

function toKeyMaterial(fields: StoredKeyMaterial): KeyMaterial {
  const { cipher, kdf, algorithm } = fields;
  if (cipher !== 'aes-256-gcm' || kdf !== 'pbkdf2-sha256' || !isAlgorithm(algorithm)) {
    throw new KeyStoreError('KEY_STORE_CORRUPT', 'stored private key record has unknown parameters');
  }
  return {
    encryptedPrivateKey: fields.encrypted_private_key,
    salt: fields.salt,
    nonce: fields.nonce,
    cipher,
    kdf,
    iterations: fields.iterations,
    algorithm,
    fingerprint: fields.fingerprint,
  };
}

function isAlgorithm(value: string): value is KeyAlgorithm {
  return ALGORITHMS.has(value);
}

/** The key fields of a record in the stored (snake_case) shape; usage counters excluded. */
export type StoredKeyFields = Omit<StoredFields, 'created_at' | 'last_accessed' | 'access_count'>;

export function toStoredKeyFields(record: NewPrivateKeyRecord): StoredKeyFields {
  return {
    user_id: record.userId,
    ...toStoredKeyMaterial(record),
    previous: record.previous === undefined || record.previous === null ? null : toStoredKeyMaterial(record.previous),
  };
}

function toStoredKeyMaterial(record: KeyMaterial): StoredKeyMaterial {
  return {
    encrypted_private_key: record.encryptedPrivateKey,
    salt: record.salt,
    nonce: record.nonce,
    cipher: record.cipher,
    kdf: record.kdf,
    iterations: record.iterations,
    algorithm: record.algorithm,
    fingerprint: record.fingerprint,
  };
}

