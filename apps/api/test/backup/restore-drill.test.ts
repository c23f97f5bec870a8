import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SIZE, kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { createPrismaClient } from '../../src/db/client.ts';
import { BackupRefusedError, createBackup, restoreBackup, type BackupProgress } from '../../src/modules/backup/index.ts';
import { keyFieldsOf, openKeyStore, type KeyStore, type PrivateKeyRecord } from '../../src/stores/keystore/index.ts';
import { buildTestApp, makeDataDir, TEST_KDF, type Session } from '../helpers/app.ts';
import { approve, downloadRaw, loginAs, newUser, requestAccess, sha256, uploadFile } from '../helpers/fixtures.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';

// The restore drill of docs/operations.md, end to end on real parts: back up a
// serving data directory while uploads are in flight, wipe it, restore into a fresh
// directory, and prove every file and the consultant's grant still open.

const MASTER_KEY = randomBytes(32).toString('hex');
const JWT_SECRET = randomBytes(32).toString('hex');
const KEY_ID = kekId(parseKek(MASTER_KEY));
const PASSPHRASE = 'drill passphrase, long enough';
const SIZES = [0, 1, DEFAULT_SEGMENT_SIZE, DEFAULT_SEGMENT_SIZE + 1, 3 * 1024 * 1024 + 123];
const IN_FLIGHT = 3;
const silent = { log: { error() {} } };

async function auditRecord(databaseUrl: string, operation: string) {
  const prisma = createPrismaClient(databaseUrl);
  try {
    return await prisma.cryptoLog.findFirst({ where: { operation }, orderBy: { seq: 'desc' } });
  } finally {
    await prisma.$disconnect();
  }
}

async function listRecords(store: KeyStore): Promise<PrivateKeyRecord[]> {
  try {
    const records: PrivateKeyRecord[] = [];
    for await (const record of store.listAll()) records.push(record);
    return records;
  } finally {
    await store.close();
  }
}

async function mongoRecords(uri: string): Promise<number> {
  return (await listRecords(await openKeyStore({ mongodbUri: uri, dataDir: '/nonexistent' }))).length;
}

async function ownerDownload(app: FastifyInstance, org: Session, fileId: string) {
  return app.inject({ method: 'GET', url: `/api/v1/files/${fileId}/content`, headers: org.headers });
}

async function runDrill(options: { sourceMongo?: string; targetMongo?: string }) {
  const env = { MASTER_KEY, JWT_SECRET, ...(options.sourceMongo ? { MONGODB_URI: options.sourceMongo } : {}) };
  const source = await buildTestApp({ env });
  const work = await makeDataDir();
  const restoredDir = path.join(work, 'restored');
  const archive = path.join(work, 'drill.sfebak');
  try {
    const org = await newUser(source.app, 'organization');
    const con = await newUser(source.app, 'consultant');
    const files = new Map<string, string>();
    for (const size of SIZES) {
      const data = randomBytes(size);
      files.set((await uploadFile(source.app, org, { data, filename: `f-${size}.bin` })).id, sha256(data));
    }
    const grantedFileId = [...files.keys()][3] as string;
    const request = await approve(source.app, org, (await requestAccess(source.app, con, grantedFileId)).id);

    // The operator's CLI: its own container on the DATA_DIR the API is serving.
    const cli = await createContainer({ ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: source.dataDir, ...env }), kdf: TEST_KDF }, silent);
    const phases: BackupProgress[] = [];
    const inFlight = Array.from({ length: IN_FLIGHT }, async (_, i) => {
      const data = randomBytes(512 * 1024 + i);
      return { id: (await uploadFile(source.app, org, { data, filename: `late-${i}.bin` })).id, sha: sha256(data) };
    });
    const [result, late] = await Promise.all([
      createBackup(cli, { out: archive, passphrase: PASSPHRASE, actor: 'operator', onProgress: (p) => phases.push(p) }).finally(() => cli.close()),
      Promise.all(inFlight),
    ]);

    expect(result.file).toBe(archive);
    expect(result.users).toBe(2);
    expect(result.files).toBeGreaterThanOrEqual(SIZES.length);
    expect(result.files).toBeLessThanOrEqual(SIZES.length + IN_FLIGHT);
    expect(result.keyIds).toEqual([KEY_ID]);
    expect(result.bytes).toBe((await stat(archive)).size);
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    expect(new Set(phases.map((p) => p.phase))).toEqual(new Set(['database', 'keyStore', 'blobs']));
    const audited = await auditRecord(source.config.databaseUrl, 'backup_created');
    expect(audited).toMatchObject({ success: true, userId: 'operator' });
    expect(JSON.parse(audited?.details ?? '{}')).toMatchObject({ files: result.files, users: 2, bytes: result.bytes, keyIds: KEY_ID });
    expect(audited?.details).not.toContain(PASSPHRASE);

    // Wipe: the source directory is gone (and, for MongoDB, the restore goes elsewhere).
    await source.cleanup();
    const restored = await restoreBackup({
      inFile: archive,
      dataDir: restoredDir,
      passphrase: PASSPHRASE,
      configuredKeyIds: [KEY_ID],
      ...(options.targetMongo ? { mongodbUri: options.targetMongo } : {}),
      env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY, JWT_SECRET },
      actor: 'operator',
    });
    expect(restored).toEqual({ files: result.files, users: 2, bytes: result.bytes, keyIds: [KEY_ID] });
    expect((await stat(restoredDir)).mode & 0o777).toBe(0o700);

    const target = await buildTestApp({
      dataDir: restoredDir,
      env: { MASTER_KEY, JWT_SECRET, ...(options.targetMongo ? { MONGODB_URI: options.targetMongo } : {}) },
    });
    try {
      const log = await auditRecord(target.config.databaseUrl, 'backup_restored');
      expect(log).toMatchObject({ success: true, userId: 'operator' });
      const owner = await loginAs(target.app, org.username, org.password);
      for (const [id, sha] of files) {
        const response = await ownerDownload(target.app, owner, id);
        expect(response.statusCode, response.body).toBe(200);
        expect(sha256(response.rawPayload)).toBe(sha);
      }
      // An upload in flight is in the archive whole, or not at all.
      let present = 0;
      for (const { id, sha } of late) {
        const response = await ownerDownload(target.app, owner, id);
        if (response.statusCode === 404) continue;
        present += 1;
        expect(response.statusCode).toBe(200);
        expect(sha256(response.rawPayload)).toBe(sha);
      }
      expect(SIZES.length + present).toBe(result.files);

      const consultant = await loginAs(target.app, con.username, con.password);
      const grant = await downloadRaw(target.app, consultant, request.id, con.password);
      expect(grant.statusCode, grant.body).toBe(200);
      expect(sha256(grant.rawPayload)).toBe(files.get(grantedFileId));
    } finally {
      await target.cleanup();
    }
    return { archive, work };
  } catch (error) {
    await source.cleanup();
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

describe('restore drill: embedded key store', () => {
  it('backs up while serving, restores into a fresh directory, and every file and grant opens', async () => {
    const { work } = await runDrill({});
    await rm(work, { recursive: true, force: true });
  });
});

describe('restore drill: MongoDB key store', () => {
  let server: Jongodb;
  beforeAll(async () => {
    server = await startJongodb();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('backs up from one MongoDB and restores into a fresh database, then refuses a second restore into it', async () => {
    const targetMongo = withDatabase(server.uri, 'sfe_restored');
    const { archive, work } = await runDrill({ sourceMongo: withDatabase(server.uri, 'sfe_source'), targetMongo });
    try {
      const again = path.join(work, 'again');
      const error: unknown = await restoreBackup({
        inFile: archive,
        dataDir: again,
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        mongodbUri: targetMongo,
        env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY, JWT_SECRET },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupRefusedError);
      expect(error).toMatchObject({ reason: 'key_store_not_empty' });
      await expect(stat(again)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await mongoRecords(targetMongo)).toBe(2);

      // The same archive into the embedded store: the records are the same bytes.
      const embeddedDir = path.join(work, 'embedded');
      await restoreBackup({
        inFile: archive,
        dataDir: embeddedDir,
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY, JWT_SECRET },
      });
      const fromMongo = await listRecords(await openKeyStore({ mongodbUri: targetMongo, dataDir: '/nonexistent' }));
      const fromEmbedded = await listRecords(await openKeyStore({ dataDir: embeddedDir }));
      expect(fromEmbedded.map(keyFieldsOf)).toEqual(fromMongo.map(keyFieldsOf));
      expect(fromEmbedded.map((r) => r.createdAt.getTime())).toEqual(fromMongo.map((r) => r.createdAt.getTime()));

      // A restore that fails after writing (the archive changed once verified) takes
      // its records out of MongoDB again.
      const other = withDatabase(server.uri, 'sfe_undone');
      const altered = await readFile(archive);
      altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0x01;
      let swapped = false;
      const undone: unknown = await restoreBackup({
        inFile: archive,
        dataDir: again,
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        mongodbUri: other,
        env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY, JWT_SECRET },
        onProgress: (progress) => {
          if (progress.phase === 'restore' && !swapped) {
            swapped = true;
            writeFileSync(archive, altered);
          }
        },
      }).catch((e: unknown) => e);
      expect(swapped).toBe(true);
      expect(undone).toMatchObject({ reason: 'undecryptable' });
      await expect(stat(again)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await mongoRecords(other)).toBe(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
