/**
 * The key store holds each user's password-encrypted RSA private key, apart from
 * the app database on purpose: a copy of one of the two stores alone is not
 * enough to read a user's key material. Adapters: MongoDB (Mongoose) and an
 * embedded SQLite file. Both pass test/stores/key-store.contract.ts.
 */

export type KeyAlgorithm = 'RSA-2048' | 'RSA-4096';

export interface PrivateKeyRecord {
  userId: string;
  encryptedPrivateKey: Buffer;
  salt: Buffer;
  nonce: Buffer;
  cipher: 'aes-256-gcm';
  kdf: 'pbkdf2-sha256';
  iterations: number;
  algorithm: KeyAlgorithm;
  fingerprint: string;
  /**
   * The key pair this one replaced, kept while a key rotation is between its key store
   * write and its database commit (and after a crash in between): grants and the
   * database's public key still name it until the commit, so it must stay openable.
   * Null once the rotation has committed and dropped it.
   */
  previous: KeyMaterial | null;
  createdAt: Date;
  lastAccessed: Date | null;
  accessCount: number;
}

/** Identifies one stored version of a user's key record. */
export type KeyVersion = Pick<PrivateKeyRecord, 'fingerprint' | 'salt'>;

/** One encrypted private key: a record holds the current one and maybe the previous one. */
export type KeyMaterial = Pick<
  PrivateKeyRecord,
  'encryptedPrivateKey' | 'salt' | 'nonce' | 'cipher' | 'kdf' | 'iterations' | 'algorithm' | 'fingerprint'
>;

/** What insert and replace write: `previous` absent means none. */
export type NewPrivateKeyRecord = Omit<PrivateKeyRecord, 'createdAt' | 'lastAccessed' | 'accessCount' | 'previous'> & {
  previous?: KeyMaterial | null;
};

export interface KeyStore {
  readonly kind: 'mongodb' | 'embedded';
  /** Throws KeyStoreConflictError if the user already has a record. */
  insert(record: NewPrivateKeyRecord): Promise<void>;
  /** Read only: does not count as an access. */
  get(userId: string): Promise<PrivateKeyRecord | null>;
  /**
   * Atomically accessCount + 1 and lastAccessed = now, in one round trip;
   * returns the updated record, or null if the user has none.
   */
  recordAccess(userId: string): Promise<PrivateKeyRecord | null>;
  /**
   * Compare-and-swap on the stored version: replaces the key material only if the
   * stored fingerprint AND salt equal `expected` (every encryption draws a fresh
   * salt, so the pair names one version: two concurrent password changes cannot both
   * win). When next.fingerprint differs (a key rotation) the record restarts:
   * createdAt = now, lastAccessed = null, accessCount = 0; a re-encryption under a
   * new password keeps them. The whole key record is written: `previous` is what
   * next says (none when absent). Returns whether a record was replaced.
   */
  replace(userId: string, expected: KeyVersion, next: NewPrivateKeyRecord): Promise<boolean>;
  /** Returns whether a record was deleted. */
  delete(userId: string): Promise<boolean>;
  /**
   * Every record, in user id order (for a backup). Read page by page, not as one
   * snapshot: a record present for the whole listing is listed exactly once, possibly
   * in a version written meanwhile; one inserted or deleted meanwhile may be missing.
   * A caller that needs consistency compares versions itself.
   */
  listAll(): AsyncIterable<PrivateKeyRecord>;
  /**
   * Inserts a record as listAll() gave it, createdAt, lastAccessed and accessCount
   * included (a backup's restore). Throws KeyStoreConflictError like insert().
   */
  restore(record: PrivateKeyRecord): Promise<void>;
  /** Cheap liveness check for /readyz; throws KeyStoreUnavailableError. */
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

export class KeyStoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Any connectivity or timeout failure. The message names the kind of failure
 * only: never the connection string, host credentials or the driver's message.
 * From a write it means the outcome is unknown: the write may still be applied.
 */
export class KeyStoreUnavailableError extends KeyStoreError {
  constructor(reason?: string) {
    super('KEY_STORE_UNAVAILABLE', reason === undefined ? 'key store unavailable' : `key store unavailable (${reason})`);
  }
}

export class KeyStoreConflictError extends KeyStoreError {
  constructor() {
    super('CONFLICT', 'a private key record already exists for this user');
  }
}

/** The record minus its usage counters: what insert/replace take, e.g. to restore it. */
export function keyFieldsOf(record: PrivateKeyRecord): NewPrivateKeyRecord {
  const { createdAt: _createdAt, lastAccessed: _lastAccessed, accessCount: _accessCount, ...fields } = record;
  return fields;
}

/** The current key of a record (or of what replace takes) as one slot. */
export function keyMaterialOf(record: NewPrivateKeyRecord): KeyMaterial {
  const { encryptedPrivateKey, salt, nonce, cipher, kdf, iterations, algorithm, fingerprint } = record;
  return { encryptedPrivateKey, salt, nonce, cipher, kdf, iterations, algorithm, fingerprint };
}

/** The slot of `record` holding the key with this fingerprint, current first. */
export function keySlot(record: PrivateKeyRecord, fingerprint: string): KeyMaterial | null {
  if (record.fingerprint === fingerprint) return keyMaterialOf(record);
  if (record.previous?.fingerprint === fingerprint) return record.previous;
  return null;
}
