import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  KeyStoreConflictError,
  KeyStoreError,
  KeyStoreUnavailableError,
  type KeyStore,
  type KeyVersion,
  type NewPrivateKeyRecord,
  type PrivateKeyRecord,
} from './key-store.ts';
import {
  LIST_PAGE_SIZE,
  assertBytes,
  assertFingerprint,
  assertNewRecord,
  assertRestoredRecord,
  assertUserId,
  toRecord,
  toStoredKeyFields,
  type StoredFields,
  type StoredKeyMaterial,
} from './records.ts';

// The embedded backend: its own SQLite file (not the app database, not Prisma),
// so the "two separate stores" property of the design holds without MongoDB.
//
// better-sqlite3 is synchronous. Every statement here touches one row by primary
// key and takes microseconds, so blocking the event loop for it costs less than a
// thread hop would; the async signatures exist for the KeyStore contract.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS private_keys (
  user_id               TEXT    NOT NULL PRIMARY KEY,
  encrypted_private_key BLOB    NOT NULL,
  salt                  BLOB    NOT NULL,
  nonce                 BLOB    NOT NULL,
  cipher                TEXT    NOT NULL CHECK (cipher = 'aes-256-gcm'),
  kdf                   TEXT    NOT NULL CHECK (kdf = 'pbkdf2-sha256'),
  iterations            INTEGER NOT NULL CHECK (iterations > 0),
  algorithm             TEXT    NOT NULL CHECK (algorithm IN ('RSA-2048', 'RSA-4096')),
  fingerprint           TEXT    NOT NULL,
  created_at            INTEGER NOT NULL, -- ms since the epoch, as a JS Date holds it
  last_accessed         INTEGER,
  access_count          INTEGER NOT NULL DEFAULT 0,
  previous              TEXT    -- JSON of the previous key pair's fields (binary as base64), or NULL
) STRICT`;

/** Files made before the previous-key slot existed get the column (NULL: no previous key). */
function addPreviousColumn(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'private_keys\')').all();
  if (!columns.some((column) => column.name === 'previous')) db.exec('ALTER TABLE private_keys ADD COLUMN previous TEXT');
}

const KEY_FIELDS = `encrypted_private_key = @encrypted_private_key, salt = @salt, nonce = @nonce,
  cipher = @cipher, kdf = @kdf, iterations = @iterations, algorithm = @algorithm, fingerprint = @fingerprint,
  previous = @previous`;

/** SQLite keeps the timestamps as epoch milliseconds and the previous key as JSON text. */
type Row = Omit<StoredFields, 'created_at' | 'last_accessed' | 'previous'> & {
  created_at: number;
  last_accessed: number | null;
  previous: string | null;
};

type KeyParams = Omit<Row, 'created_at' | 'last_accessed' | 'access_count'>;

const BUSY_TIMEOUT_MS = 5000;

export async function openEmbeddedKeyStore(filePath: string): Promise<KeyStore> {
  await mkdir(dirname(filePath), { recursive: true, mode: 0o700 });
  // Create the file ourselves so it is never world-readable, not even for the
  // moment between SQLite creating it and a chmod; tighten an existing one too.
  // SQLite gives the -wal and -shm files the mode of the database file.
  await (await open(filePath, 'a', 0o600)).close();
  await chmod(filePath, 0o600);

  let db: Database.Database;
  try {
    db = new Database(filePath, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma('journal_mode = WAL');
    // FULL: a rotation that re-wrapped grants to a new key must not lose that key
    // on power failure. Writes here are rare, so the extra fsync is cheap.
    db.pragma('synchronous = FULL');
    // Deleting a user's key (incident response) should not leave its bytes in
    // free pages of the file.
    db.pragma('secure_delete = ON');
    db.exec(SCHEMA);
    addPreviousColumn(db);
  } catch (error) {
    throw mapError(error);
  }
  return new EmbeddedKeyStore(db);
}

class EmbeddedKeyStore implements KeyStore {
  readonly kind = 'embedded' as const;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[KeyParams & { created_at: number }]>;
  readonly #get: Database.Statement<[string], Row>;
  readonly #recordAccess: Database.Statement<[{ user_id: string; now: number }], Row>;
  readonly #reencrypt: Database.Statement<[KeyParams & { expected: string; expected_salt: Buffer }]>;
  readonly #rotate: Database.Statement<[KeyParams & { expected: string; expected_salt: Buffer; now: number }]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #page: Database.Statement<[{ after: string; limit: number }], Row>;
  readonly #restore: Database.Statement<[Row]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(`INSERT INTO private_keys
      (user_id, encrypted_private_key, salt, nonce, cipher, kdf, iterations, algorithm, fingerprint, previous, created_at)
      VALUES (@user_id, @encrypted_private_key, @salt, @nonce, @cipher, @kdf, @iterations, @algorithm, @fingerprint, @previous, @created_at)`);
    this.#get = db.prepare('SELECT * FROM private_keys WHERE user_id = ?');
    this.#recordAccess = db.prepare(`UPDATE private_keys
      SET access_count = access_count + 1, last_accessed = @now WHERE user_id = @user_id RETURNING *`);
    this.#reencrypt = db.prepare(`UPDATE private_keys SET ${KEY_FIELDS}
      WHERE user_id = @user_id AND fingerprint = @expected AND salt = @expected_salt`);
    this.#rotate = db.prepare(`UPDATE private_keys
      SET ${KEY_FIELDS}, created_at = @now, last_accessed = NULL, access_count = 0
      WHERE user_id = @user_id AND fingerprint = @expected AND salt = @expected_salt`);
    this.#delete = db.prepare('DELETE FROM private_keys WHERE user_id = ?');
    this.#page = db.prepare('SELECT * FROM private_keys WHERE user_id > @after ORDER BY user_id LIMIT @limit');
    this.#restore = db.prepare(`INSERT INTO private_keys
      (user_id, encrypted_private_key, salt, nonce, cipher, kdf, iterations, algorithm, fingerprint, previous,
        created_at, last_accessed, access_count)
      VALUES (@user_id, @encrypted_private_key, @salt, @nonce, @cipher, @kdf, @iterations, @algorithm, @fingerprint, @previous,
        @created_at, @last_accessed, @access_count)`);
  }

  async insert(record: NewPrivateKeyRecord): Promise<void> {
    assertNewRecord(record);
    this.#run(() => this.#insert.run({ ...toKeyParams(record), created_at: Date.now() }));
  }

  async get(userId: string): Promise<PrivateKeyRecord | null> {
    assertUserId(userId);
    return fromRow(this.#run(() => this.#get.get(userId)));
  }

  async recordAccess(userId: string): Promise<PrivateKeyRecord | null> {
    assertUserId(userId);
    return fromRow(this.#run(() => this.#recordAccess.get({ user_id: userId, now: Date.now() })));
  }

  async replace(userId: string, expected: KeyVersion, next: NewPrivateKeyRecord): Promise<boolean> {
    assertUserId(userId);
    assertFingerprint(expected.fingerprint, 'expected.fingerprint');
    assertBytes(expected.salt, 'expected.salt');
    assertNewRecord(next);
    if (next.userId !== userId) throw new TypeError('next.userId must equal userId');
    const params = { ...toKeyParams(next), expected: expected.fingerprint, expected_salt: expected.salt };
    const result = this.#run(() =>
      next.fingerprint === expected.fingerprint
        ? this.#reencrypt.run(params)
        : this.#rotate.run({ ...params, now: Date.now() }),
    );
    return result.changes > 0;
  }

  async delete(userId: string): Promise<boolean> {
    assertUserId(userId);
    return this.#run(() => this.#delete.run(userId)).changes > 0;
  }

  // Pages, not one statement.iterate(): an open iterator would keep this connection
  // busy, and the API shares it, between the caller's awaits.
  async *listAll(): AsyncGenerator<PrivateKeyRecord> {
    let after = '';
    for (;;) {
      const rows = this.#run(() => this.#page.all({ after, limit: LIST_PAGE_SIZE }));
      for (const row of rows) {
        const record = fromRow(row);
        if (record !== null) yield record;
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < LIST_PAGE_SIZE) return;
      after = last.user_id;
    }
  }

  async restore(record: PrivateKeyRecord): Promise<void> {
    assertRestoredRecord(record);
    this.#run(() =>
      this.#restore.run({
        ...toKeyParams(record),
        created_at: record.createdAt.getTime(),
        last_accessed: record.lastAccessed === null ? null : record.lastAccessed.getTime(),
        access_count: record.accessCount,
      }),
    );
  }

  async ping(): Promise<void> {
    this.#run(() => this.#db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #run<T>(operation: () => T): T {
    if (!this.#db.open) throw new KeyStoreUnavailableError('closed');
    try {
      return operation();
    } catch (error) {
      throw mapError(error);
    }
  }
}


function toKeyParams(record: NewPrivateKeyRecord): KeyParams {
  const { previous, ...fields } = toStoredKeyFields(record);
  if (previous === null) return { ...fields, previous: null };
  const text: Record<string, unknown> = { ...previous };
  for (const name of BINARY_FIELDS) text[name] = previous[name].toString('base64');
  return { ...fields, previous: JSON.stringify(text) };
}

const BINARY_FIELDS = ['encrypted_private_key', 'salt', 'nonce'] as const;

function fromRow(row: Row | undefined): PrivateKeyRecord | null {
  if (row === undefined) return null;
  return toRecord({
    ...row,
    previous: row.previous === null ? null : parsePrevious(row.previous),
    created_at: new Date(row.created_at),
    last_accessed: row.last_accessed === null ? null : new Date(row.last_accessed),
  });
}

function parsePrevious(text: string): StoredKeyMaterial {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KeyStoreError('KEY_STORE_CORRUPT', 'stored previous key is not JSON');
  }
  const fields: Record<string, unknown> = { ...value };
  for (const name of BINARY_FIELDS) {
    const field = value[name];
    if (typeof field !== 'string') throw new KeyStoreError('KEY_STORE_CORRUPT', 'stored previous key has a malformed binary field');
    fields[name] = Buffer.from(field, 'base64');
  }
  return fields as unknown as StoredKeyMaterial;
}

// Codes that mean "cannot reach or write the file right now", as opposed to a
// bug or a corrupt file.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PERM|NOLFS)/;

function mapError(error: unknown): Error {
  if (error instanceof KeyStoreError) return error;
  if (error instanceof Database.SqliteError) {
    if (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return new KeyStoreConflictError();
    if (UNAVAILABLE.test(error.code)) return new KeyStoreUnavailableError(error.code);
    return new KeyStoreError('KEY_STORE_FAILURE', `key store failure (${error.code})`, { cause: error });
  }
  // SQLite messages carry no secrets (values are bound, never inlined), so the
  // cause is kept for the operator's log.
  return new KeyStoreError('KEY_STORE_FAILURE', 'key store failure', { cause: error });
}
