import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SIZE, kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { BackupRefusedError, createBackup, restoreBackup } from '../../src/modules/backup/index.ts';
import { buildTestApp, makeDataDir, TEST_KDF } from '../helpers/app.ts';
import { approve, downloadRaw, loginAs, newUser, requestAccess, sha256, uploadFile } from '../helpers/fixtures.ts';
import { S3_CREDENTIALS, S3_REGION, startS3, type S3Server } from '../helpers/s3.ts';

// The restore drill with BLOB_STORE=s3 (s3rver): blobs live in a bucket, not in
// DATA_DIR; the archive carries them; the restore writes them into the bucket the
// restored installation is configured with, and refuses a bucket that already holds them.

const MASTER_KEY = randomBytes(32).toString('hex');
const JWT_SECRET = randomBytes(32).toString('hex');
const KEY_ID = kekId(parseKek(MASTER_KEY));
const PASSPHRASE = 'drill passphrase, long enough';
const SIZES = [0, 1, DEFAULT_SEGMENT_SIZE + 1, 9 * 1024 * 1024 + 17];
const silent = { log: { error() {} } };

let server: S3Server;
let client: S3Client;
beforeAll(async () => {
  server = await startS3();
  client = new S3Client({ endpoint: server.endpoint, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS });
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

const s3Env = (bucket: string) => ({
  BLOB_STORE: 's3',
  S3_ENDPOINT: server.endpoint,
  S3_BUCKET: bucket,
  S3_REGION,
  S3_FORCE_PATH_STYLE: 'true',
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
});

async function objectCount(bucket: string): Promise<number> {
  return (await client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0;
}

describe('restore drill: S3 blob store', () => {
  it('backs up blobs from one bucket, restores them into another, every file and grant opens; a bucket holding them is refused', async () => {
    const sourceBucket = await server.createBucket();
    const targetBucket = await server.createBucket();
    const env = { MASTER_KEY, JWT_SECRET, ...s3Env(sourceBucket) };
    const source = await buildTestApp({ env });
    const work = await makeDataDir();
    const archive = path.join(work, 'drill.sfebak');
    try {
      const org = await newUser(source.app, 'organization');
      const con = await newUser(source.app, 'consultant');
      const files = new Map<string, string>();
      for (const size of SIZES) {
        const data = randomBytes(size);
        files.set((await uploadFile(source.app, org, { data, filename: `s3-${size}.bin` })).id, sha256(data));
      }
      const grantedFileId = [...files.keys()][3] as string;
      const request = await approve(source.app, org, (await requestAccess(source.app, con, grantedFileId)).id);
      // The blobs are in the bucket, none on the local disk.
      expect(await objectCount(sourceBucket)).toBe(SIZES.length);
      expect(await readdir(path.join(source.dataDir, 'blobs')).catch(() => [])).toEqual([]);

      const cli = await createContainer({ ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: source.dataDir, ...env }), kdf: TEST_KDF }, silent);
      const result = await createBackup(cli, { out: archive, passphrase: PASSPHRASE, actor: 'operator' }).finally(() => cli.close());
      expect(result).toMatchObject({ files: SIZES.length, users: 2, keyIds: [KEY_ID] });
      await source.cleanup();

      const targetEnv = { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY, JWT_SECRET, ...s3Env(targetBucket) };
      const targetSettings = loadConfig({ ...targetEnv, DATA_DIR: work }).blobStore;
      const restoredDir = path.join(work, 'restored');
      const restored = await restoreBackup({
        inFile: archive,
        dataDir: restoredDir,
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        blobStore: targetSettings,
        env: targetEnv,
        actor: 'operator',
      });
      expect(restored).toMatchObject({ files: SIZES.length, users: 2, keyIds: [KEY_ID] });
      expect(await objectCount(targetBucket)).toBe(SIZES.length);
      expect(await readdir(path.join(restoredDir, 'blobs')).catch(() => [])).toEqual([]);

      const target = await buildTestApp({ dataDir: restoredDir, env: { MASTER_KEY, JWT_SECRET, ...s3Env(targetBucket) } });
      try {
        const owner = await loginAs(target.app, org.username, org.password);
        for (const [id, sha] of files) {
          const response = await target.app.inject({ method: 'GET', url: `/api/v1/files/${id}/content`, headers: owner.headers });
          expect(response.statusCode, response.body).toBe(200);
          expect(sha256(response.rawPayload)).toBe(sha);
        }
        // A Range download is a ranged GET on the object.
        const largest = [...files.keys()][3] as string;
        const ranged = await target.app.inject({ method: 'GET', url: `/api/v1/files/${largest}/content`, headers: { ...owner.headers, range: 'bytes=5000000-5000099' } });
        expect(ranged.statusCode).toBe(206);
        expect(ranged.rawPayload.length).toBe(100);
        const consultant = await loginAs(target.app, con.username, con.password);
        const grant = await downloadRaw(target.app, consultant, request.id, con.password);
        expect(grant.statusCode, grant.body).toBe(200);
        expect(sha256(grant.rawPayload)).toBe(files.get(grantedFileId));
        const verify = await target.app.inject({ method: 'GET', url: '/readyz' });
        expect(verify.statusCode).toBe(200);
      } finally {
        await target.close();
      }

      // Restoring again into the same bucket (a fresh directory) is refused before anything is written.
      const again = await restoreBackup({
        inFile: archive,
        dataDir: path.join(work, 'again'),
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        blobStore: targetSettings,
        env: targetEnv,
      }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(again).toBeInstanceOf(BackupRefusedError);
      expect((again as BackupRefusedError).reason).toBe('blob_store_not_empty');
      expect(await readdir(path.join(work, 'again')).catch(() => [])).toEqual([]);
      expect(await objectCount(targetBucket)).toBe(SIZES.length);
    } finally {
      await source.cleanup();
      await rm(work, { recursive: true, force: true });
    }
  });
});
