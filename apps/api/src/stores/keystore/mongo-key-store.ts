import mongoose, { Schema, type Connection, type Model } from 'mongoose';
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

export interface MongoKeyStoreOptions {
  /** How long an operation waits for a reachable server before failing. Default 3000. */
  serverSelectionTimeoutMS?: number;
  /**
   * Upper bound on any one operation, whatever the driver does. Default: twice the
   * selection timeout (one selection plus the driver's one retry).
   */
  operationTimeoutMS?: number;
}

const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3000;
// Bounds an operation on a server that accepted the connection and then hangs;
// every operation here is a single-document command, so 10 s is generous.
const SOCKET_TIMEOUT_MS = 10_000;

type PrivateKeyDocument = StoredFields;

const previousKeySchema = new Schema<StoredKeyMaterial>(
  {
    encrypted_private_key: { type: Buffer, required: true },
    salt: { type: Buffer, required: true },
    nonce: { type: Buffer, required: true },
    cipher: { type: String, required: true, enum: ['aes-256-gcm'] },
    kdf: { type: String, required: true, enum: ['pbkdf2-sha256'] },
    iterations: { type: Number, required: true, min: 1 },
    algorithm: { type: String, required: true, enum: ['RSA-2048', 'RSA-4096'] },
    fingerprint: { type: String, required: true },
  },
  { _id: false, versionKey: false, strict: 'throw' },
);

const privateKeySchema = new Schema<PrivateKeyDocument>(
  {
    user_id: { type: String, required: true },
    encrypted_private_key: { type: Buffer, required: true },
    salt: { type: Buffer, required: true },
    nonce: { type: Buffer, required: true },
    cipher: { type: String, required: true, enum: ['aes-256-gcm'] },
    kdf: { type: String, required: true, enum: ['pbkdf2-sha256'] },
    iterations: { type: Number, required: true, min: 1 },
    algorithm: { type: String, required: true, enum: ['RSA-2048', 'RSA-4096'] },
    fingerprint: { type: String, required: true },
    // Documents written before this field existed have none: read as null.
    previous: { type: previousKeySchema, default: null },
    created_at: { type: Date, required: true },
    last_accessed: { type: Date, default: null },
    access_count: { type: Number, required: true, default: 0 },
  },
  { collection: 'private_keys', versionKey: false, strict: 'throw', strictQuery: 'throw' },
);
privateKeySchema.index({ user_id: 1 }, { unique: true });

export async function openMongoKeyStore(uri: string, options: MongoKeyStoreOptions = {}): Promise<KeyStore> {
  const selectionTimeoutMS = options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  let connection: Connection | undefined;
  try {
    connection = mongoose.createConnection(uri, {
      // The key store never creates collections implicitly at start-up (our test
      // server lacks `create`; in production the first insert creates it).
      autoCreate: false,
      // Indexes are built once below and awaited, not in the background.
      autoIndex: false,
      // A down server must fail the request now rather than queue it forever.
      bufferCommands: false,
      serverSelectionTimeoutMS: selectionTimeoutMS,
      // Without this a server that stops answering (partition, hung process) holds
      // each new connection's handshake for the driver's 30 s default, and an
      // operation for a multiple of that, however short the selection timeout.
      connectTimeoutMS: selectionTimeoutMS,
      socketTimeoutMS: SOCKET_TIMEOUT_MS,
      // Binary fields come back as Buffer, as the KeyStore contract promises.
      promoteBuffers: true,
    });
    // Failures surface through the operations; an unhandled 'error' event would
    // crash the process instead.
    connection.on('error', () => {});
    await connection.asPromise();
    const model = connection.model<PrivateKeyDocument>('PrivateKey', privateKeySchema);
    // createIndexes, not syncIndexes: never drop an index an operator added.
    await model.createIndexes();
    return new MongoKeyStore(connection, model, options.operationTimeoutMS ?? 2 * selectionTimeoutMS);
  } catch (error) {
    await connection?.close().catch(() => {});
    throw mapError(error);
  }
}

class MongoKeyStore implements KeyStore {
  readonly kind = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #model: Model<PrivateKeyDocument>;
  readonly #operationTimeoutMS: number;
  #closed: Promise<void> | undefined;

  constructor(connection: Connection, model: Model<PrivateKeyDocument>, operationTimeoutMS: number) {
    this.#connection = connection;
    this.#model = model;
    this.#operationTimeoutMS = operationTimeoutMS;
  }

  async insert(record: NewPrivateKeyRecord): Promise<void> {
    assertNewRecord(record);
    const doc: PrivateKeyDocument = {
      ...toStoredKeyFields(record),
      created_at: new Date(),
      last_accessed: null,
      access_count: 0,
    };
    // create() rather than the raw collection so the schema validates the document.
    await this.#run(() => this.#model.create(doc));
  }

  async get(userId: string): Promise<PrivateKeyRecord | null> {
    assertUserId(userId);
    return fromDocument(await this.#run(() => this.#model.findOne({ user_id: userId }).lean<PrivateKeyDocument>().exec()));
  }

  async recordAccess(userId: string): Promise<PrivateKeyRecord | null> {
    assertUserId(userId);
    // $set with the API's clock rather than $currentDate: the embedded backend
    // uses the same clock, and not every MongoDB-protocol server has $currentDate.
    const doc = await this.#run(() =>
      this.#model
        .findOneAndUpdate(
          { user_id: userId },
          { $inc: { access_count: 1 }, $set: { last_accessed: new Date() } },
          { returnDocument: 'after' },
        )
        .lean<PrivateKeyDocument>()
        .exec(),
    );
    return fromDocument(doc);
  }

  async replace(userId: string, expected: KeyVersion, next: NewPrivateKeyRecord): Promise<boolean> {
    assertUserId(userId);
    assertFingerprint(expected.fingerprint, 'expected.fingerprint');
    assertBytes(expected.salt, 'expected.salt');
    assertNewRecord(next);
    if (next.userId !== userId) throw new TypeError('next.userId must equal userId');
    const rotation =
      next.fingerprint === expected.fingerprint ? {} : { created_at: new Date(), last_accessed: null, access_count: 0 };
    const result = await this.#run(() =>
      this.#model
        .updateOne(
          { user_id: userId, fingerprint: expected.fingerprint, salt: expected.salt },
          { $set: { ...toStoredKeyFields(next), ...rotation } },
        )
        .exec(),
    );
    return result.matchedCount > 0;
  }

  async delete(userId: string): Promise<boolean> {
    assertUserId(userId);
    const result = await this.#run(() => this.#model.deleteOne({ user_id: userId }).exec());
    return result.deletedCount > 0;
  }

  // Keyset pages rather than one cursor: each page is one bounded command under the
  // operation deadline, and no server-side cursor can time out under a slow consumer.
  async *listAll(): AsyncGenerator<PrivateKeyRecord> {
    let after: string | null = null;
    for (;;) {
      const filter: { user_id?: { $gt: string } } = after === null ? {} : { user_id: { $gt: after } };
      const docs: PrivateKeyDocument[] = await this.#run(() =>
        this.#model.find(filter).sort({ user_id: 1 }).limit(LIST_PAGE_SIZE).lean<PrivateKeyDocument[]>().exec(),
      );
      for (const doc of docs) {
        const record = fromDocument(doc);
        if (record !== null) yield record;
      }
      const last = docs.at(-1);
      if (last === undefined || docs.length < LIST_PAGE_SIZE) return;
      after = last.user_id;
    }
  }

  async restore(record: PrivateKeyRecord): Promise<void> {
    assertRestoredRecord(record);
    const doc: PrivateKeyDocument = {
      ...toStoredKeyFields(record),
      created_at: record.createdAt,
      last_accessed: record.lastAccessed,
      access_count: record.accessCount,
    };
    await this.#run(() => this.#model.create(doc));
  }

  async ping(): Promise<void> {
    await this.#run(async () => {
      const db = this.#connection.db;
      if (db === undefined) throw new KeyStoreUnavailableError('not connected');
      await db.command({ ping: 1 });
    });
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      // The driver's close waits for operations still queued against a dead
      // server, including those abandoned at their deadline; a shutdown should
      // not, so after the deadline the driver finishes closing in the background.
      await withDeadline(this.#connection.close(), this.#operationTimeoutMS).catch((error: unknown) => {
        if (!(error instanceof KeyStoreUnavailableError)) throw mapError(error);
      });
    })();
    return this.#closed;
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed !== undefined) throw new KeyStoreUnavailableError('closed');
    try {
      return await withDeadline(operation(), this.#operationTimeoutMS);
    } catch (error) {
      throw mapError(error);
    }
  }
}

/**
 * Against a server that accepts connections but never answers, the driver queues
 * operations behind handshakes that each wait connectTimeoutMS (two at a time), so
 * 30 concurrent calls took 10 s at a 250 ms timeout. The deadline keeps a request
 * from waiting on that queue. An abandoned write may still be applied later: an
 * unavailable error from a write means "outcome unknown".
 */
async function withDeadline<T>(operation: Promise<T>, timeoutMS: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeyStoreUnavailableError('timeout')), timeoutMS);
  });
  try {
    // race() also handles the abandoned operation's eventual rejection.
    return await Promise.race([operation, deadline]);
  } finally {
    clearTimeout(timer);
  }
}


function fromDocument(doc: PrivateKeyDocument | null): PrivateKeyRecord | null {
  if (doc === null) return null;
  const previous = doc.previous ?? null;
  return toRecord({
    ...doc,
    ...binaryFields(doc),
    previous: previous === null ? null : { ...previous, ...binaryFields(previous) },
  });
}

const binaryFields = (doc: Pick<StoredKeyMaterial, 'encrypted_private_key' | 'salt' | 'nonce'>) => ({
  encrypted_private_key: asBuffer(doc.encrypted_private_key),
  salt: asBuffer(doc.salt),
  nonce: asBuffer(doc.nonce),
});

// promoteBuffers should already give Buffers; this guards a driver or server that
// returns BSON Binary anyway, so callers never see a non-Buffer.
function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof mongoose.mongo.Binary) return Buffer.from(value.value());
  throw new KeyStoreError('KEY_STORE_CORRUPT', 'stored private key record has a malformed binary field');
}

const { mongo } = mongoose;
const UNAVAILABLE_CLASSES = [
  mongo.MongoNetworkError, // includes MongoNetworkTimeoutError
  mongo.MongoServerSelectionError,
  mongo.MongoTopologyClosedError,
  mongo.MongoNotConnectedError,
  mongo.MongoServerClosedError,
  mongo.MongoOperationTimeoutError,
  mongoose.Error.MongooseServerSelectionError,
];
// The driver (7.8) lets some raw socket errors through unwrapped, e.g. EPIPE when
// a command is written to a connection the server just closed.
const NETWORK_ERRNOS = new Set([
  'EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);
// Server replies meaning "not now" rather than "no": shutdown, failover, network
// trouble between replica-set members, a server-side time limit.
const UNAVAILABLE_SERVER_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * Driver messages can name hosts, replica-set members and (for parse errors)
 * parts of the connection string, so none of them is copied into our errors; the
 * error's class name is enough to tell an operator which way it failed.
 */
function mapError(error: unknown): Error {
  if (error instanceof KeyStoreError) return error;
  if (error instanceof mongo.MongoServerError) {
    if (error.code === 11000) return new KeyStoreConflictError();
    if (typeof error.code === 'number' && UNAVAILABLE_SERVER_CODES.has(error.code)) {
      return new KeyStoreUnavailableError(`server code ${error.code}`);
    }
    return new KeyStoreError('KEY_STORE_FAILURE', `key store failure (server code ${String(error.code)})`);
  }
  if (UNAVAILABLE_CLASSES.some((errorClass) => error instanceof errorClass)) {
    return new KeyStoreUnavailableError((error as Error).name);
  }
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof errno === 'string' && NETWORK_ERRNOS.has(errno)) return new KeyStoreUnavailableError(errno);
  if (error instanceof mongo.MongoParseError) {
    return new KeyStoreError('KEY_STORE_CONFIG', 'invalid MongoDB connection string');
  }
  const name = error instanceof Error ? error.name : 'unknown error';
  return new KeyStoreError('KEY_STORE_FAILURE', `key store failure (${name})`);
}
