import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStoreUnavailableError, openKeyStore, type KeyStore } from '../../src/stores/keystore/index.ts';
import { openMongoKeyStore } from '../../src/stores/keystore/mongo-key-store.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';
import { keyStoreContract, newRecord } from './key-store.contract.ts';

let server: Jongodb;
let databaseCounter = 0;

beforeAll(async () => {
  server = await startJongodb();
});

function freshUri(): string {
  databaseCounter += 1;
  return withDatabase(server.uri, `sfe_keys_${databaseCounter}`);
}

const contractDatabases: string[] = [];

keyStoreContract(
  'mongodb',
  () => {
    const uri = freshUri();
    contractDatabases.push(uri);
    return openMongoKeyStore(uri);
  },
  async () => {
    // The server stays up for the tests below (it stops in the file's afterAll);
    // jongodb has no dropDatabase, so the documents go.
    for (const uri of contractDatabases) {
      const client = new mongoose.mongo.MongoClient(uri);
      await client.db().collection('private_keys').deleteMany({});
      await client.close();
    }
  },
);

/** Every way a rejection could leak the connection string. */
function expectNoUriIn(error: unknown, uri: string): void {
  const { hostname, port, password, username } = new URL(uri);
  const text = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
  for (const secret of [uri, `${hostname}:${port}`, password, username].filter((s) => s !== '')) {
    expect(text).not.toContain(secret);
  }
}

describe('mongodb key store', () => {
  it('is selected by a MongoDB URI and stores the documented snake_case document', async () => {
    const uri = freshUri();
    const store = await openKeyStore({ mongodbUri: uri, dataDir: '/nonexistent' });
    const client = new mongoose.mongo.MongoClient(uri);
    try {
      expect(store.kind).toBe('mongodb');
      const record = newRecord();
      await store.insert(record);
      await store.recordAccess(record.userId);

      const collection = client.db().collection('private_keys');
      const doc = await collection.findOne({ user_id: record.userId });
      expect(Object.keys(doc ?? {}).sort()).toEqual(
        [
          '_id', 'access_count', 'algorithm', 'cipher', 'created_at', 'encrypted_private_key', 'fingerprint',
          'iterations', 'kdf', 'last_accessed', 'nonce', 'previous', 'salt', 'user_id',
        ].sort(),
      );
      expect(doc?.['previous']).toBeNull();
      // A document written before the previous-key slot existed reads as having none.
      await collection.updateOne({ user_id: record.userId }, { $unset: { previous: '' } });
      expect(Object.keys((await collection.findOne({ user_id: record.userId })) ?? {})).not.toContain('previous');
      expect((await store.get(record.userId))?.previous).toBeNull();
      expect(doc?.['encrypted_private_key']).toBeInstanceOf(mongoose.mongo.Binary);
      expect(doc?.['created_at']).toBeInstanceOf(Date);
      expect(doc?.['access_count']).toBe(1);
      const indexes = await collection.listIndexes().toArray();
      expect(indexes).toContainEqual(expect.objectContaining({ key: { user_id: 1 }, unique: true }));
    } finally {
      await client.close();
      await store.close();
    }
  });

  // The real default selection timeout (3 s) at work; the driver's own 30 s would
  // exceed this test's 10 s.
  it('fails to open against an unreachable server with an unavailable error that names no URI', { timeout: 10_000 }, async () => {
    // Nothing listens on a port of a server we stopped.
    const dead = await startJongodb();
    await dead.stop();
    const uri = withDatabase(dead.uri, 'sfe').replace('mongodb://', 'mongodb://keystore-user:s3cret-pw@');
    const error: unknown = await openMongoKeyStore(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyStoreUnavailableError);
    expect(error).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE' });
    expectNoUriIn(error, uri);
  });

  // The API starts while the store is down: openKeyStore hands back a store that keeps
  // trying to open, failing each call the same way until the server answers.
  it('opens a reconnecting store when the server is unreachable at start', { timeout: 10_000 }, async () => {
    const dead = await startJongodb();
    await dead.stop();
    const uri = withDatabase(dead.uri, 'sfe').replace('mongodb://', 'mongodb://keystore-user:s3cret-pw@');
    const store = await openKeyStore({ mongodbUri: uri, dataDir: '/nonexistent', serverSelectionTimeoutMS: 250 });
    try {
      expect(store.kind).toBe('mongodb');
      const error: unknown = await store.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expectNoUriIn(error, uri);
      expect(await store.get('nobody').catch((e: unknown) => e)).toBeInstanceOf(KeyStoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  // The 10 s test timeouts are the hang guards: with the driver's defaults (30 s
  // selection and connect timeouts) these operations take 40-60 s to fail against
  // an unresponsive server, and without the store's operation deadline the 40
  // concurrent calls queue behind handshakes for over 10 s even at 250 ms.
  it.each([
    ['stopped (connections refused)', false],
    ['unresponsive (accepts connections, never answers)', true],
  ])('rejects every operation with an unavailable error once the server is %s', { timeout: 10_000 }, async (_label, blackHole) => {
    const doomed = await startJongodb();
    const uri = withDatabase(doomed.uri, 'sfe');
    const sockets: Socket[] = [];
    const hole = createServer((socket) => sockets.push(socket));
    let store: KeyStore | undefined;
    try {
      store = await openMongoKeyStore(uri, { serverSelectionTimeoutMS: 250 });
      const record = newRecord();
      await store.insert(record);
      await doomed.stop();
      if (blackHole) {
        hole.listen(Number(new URL(uri).port), '127.0.0.1');
        await once(hole, 'listening');
      }

      const live = store;
      const results = await Promise.allSettled([
        live.ping(),
        live.insert(newRecord()),
        live.get(record.userId),
        live.recordAccess(record.userId),
        live.replace(record.userId, record, record),
        live.delete(record.userId),
        ...Array.from({ length: 40 }, () => live.recordAccess(record.userId)),
      ]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(KeyStoreUnavailableError);
          expect(result.reason).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE' });
          expectNoUriIn(result.reason, uri);
        }
      }
    } finally {
      await store?.close();
      await doomed.stop();
      for (const socket of sockets) socket.destroy();
      if (hole.listening) hole.close();
    }
  });
});

afterAll(async () => {
  await server.stop();
});
