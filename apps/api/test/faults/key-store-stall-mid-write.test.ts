import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { openDb } from '../helpers/admin.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { downloadRaw, expectProblem, grantedPair } from '../helpers/fixtures.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';
import { startPausableProxy, type PausableProxy } from './pausable-proxy.ts';

/**
 * P24, the write path: the MongoDB key store stalls after a key rotation has read the
 * private key and before its write. The rotation answers 503 with the outcome unknown;
 * the held-back write may still land once the bytes flow again, leaving the key store
 * on a key pair the database never committed. The previous-key slot keeps the grant
 * openable whatever landed, and the next rotation brings both stores to one key pair.
 */
describe('faults: the key store stalls between a rotation\'s read and its write', () => {
  let mongo: Jongodb;
  let proxy: PausableProxy;
  let direct: mongoose.mongo.MongoClient;
  let t: TestApp;
  let db: PrismaClient;
  let con: Session;
  let grant: AccessRequest;
  let fingerprint: string;
  const database = `sfe_${randomBytes(4).toString('hex')}`;
  const storedKey = async () =>
    (await direct.db(database).collection('private_keys').findOne({ user_id: con.id })) as { fingerprint: string; access_count: number; previous: { fingerprint: string } | null } | null;

  beforeAll(async () => {
    mongo = await startJongodb();
    const upstream = new URL(mongo.uri);
    proxy = await startPausableProxy({ host: upstream.hostname, port: Number(upstream.port) });
    direct = new mongoose.mongo.MongoClient(withDatabase(mongo.uri, database));
    await direct.connect();
    t = await buildTestApp({ env: { MONGODB_URI: withDatabase(`mongodb://127.0.0.1:${proxy.port}/`, database), KEY_STORE_TIMEOUT_MS: '300' } });
    db = openDb(t);
    ({ con, request: grant } = await grantedPair(t.app));
    fingerprint = (await db.user.findUniqueOrThrow({ where: { id: con.id } })).publicKeyFingerprint!;
  });
  afterAll(async () => {
    proxy.resume();
    await db.$disconnect();
    await t.cleanup();
    await direct.close();
    await proxy.close();
    await mongo.stop();
  });

  it('answers 503 when the write stalls, and whatever lands later, no grant is stranded', { timeout: 120_000 }, async () => {
    const accessed = (await storedKey())!.access_count;
    // A 4096-bit key takes long enough to make that the stall falls after the read (the
    // access is counted) and before the write.
    const rotation = t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password, keySize: 4096 } });
    while ((await storedKey())!.access_count === accessed) await sleep(2);
    proxy.pause();
    expectProblem(await rotation, 503, 'KEY_STORE_UNAVAILABLE');
    expect((await db.user.findUniqueOrThrow({ where: { id: con.id } })).publicKeyFingerprint).toBe(fingerprint);

    proxy.resume();
    await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 30_000, interval: 250 }).toBe(200);
    // The held-back write lands now, if at all.
    await sleep(1000);
    const landed = (await storedKey())!;
    if (landed.fingerprint !== fingerprint) expect(landed.previous?.fingerprint).toBe(fingerprint);
    console.log(`stalled rotation write ${landed.fingerprint === fingerprint ? 'did not land' : 'landed late (old key kept as previous)'}`);
    const download = await downloadRaw(t.app, con, grant.id, con.password);
    expect(download.statusCode, download.body.slice(0, 200)).toBe(200);

    const rotate = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: con.headers, payload: { password: con.password } });
    expect(rotate.statusCode, rotate.body).toBe(200);
    expect(rotate.json<{ rewrappedGrants: number }>().rewrappedGrants).toBe(1);
    const now = (await db.user.findUniqueOrThrow({ where: { id: con.id } })).publicKeyFingerprint;
    expect(await storedKey()).toMatchObject({ fingerprint: now, previous: null });
    expect((await downloadRaw(t.app, con, grant.id, con.password)).statusCode).toBe(200);
  });
});
