import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKekRing, parseKek, wrapDek } from '@sfe/crypto';
import { createEncryptStreamWithRandomness } from '../../../../packages/crypto/src/segmented/encrypt.ts';
import { through } from '../../../../packages/crypto/test/helpers/streams.ts';
import { KAT } from '../../../../packages/crypto/test/vectors/format-kat.ts';
import { createPrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { newUser, sha256, uploadFile } from '../helpers/fixtures.ts';

const MASTER_KEY = randomBytes(32).toString('hex');
const FILE_ID = 'kat-0001';
const BLOB_KEY = 'katblob0000000000000000000000001';
// packages/crypto/FORMAT.md, "Stored files".
const KAT_BLOB_SHA256 = '01121ecc917bb04f24898903a03fe3abbba4a9d20de7e4e52e4e2ebc9acfadc0';
const KAT_PLAINTEXT_SHA256 = '3bb0a7afc69df4c447919d55b1f61fda51cd976f0b48afaa9a47e635bb673647';

describe('sfe decrypt: one stored file from the data directory, no server', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let uploaded: { id: string; sha256: string };

  beforeAll(async () => {
    t = await buildTestApp({ env: { MASTER_KEY } });
    const org = await newUser(t.app, 'organization');
    const data = randomBytes(300_000);
    uploaded = { id: (await uploadFile(t.app, org, { data, filename: 'big.bin' })).id, sha256: sha256(data) };
    await t.close();

    // The FORMAT.md known-answer blob, stored as SFE stores it: a row and a blob file.
    const blob = await through(
      Buffer.from(KAT.plaintext, 'hex'),
      createEncryptStreamWithRandomness(
        Buffer.from(KAT.dek, 'hex'),
        Buffer.from(`sfe:blob:v1:${FILE_ID}`),
        { algorithm: 'aes-256-gcm', segmentSize: KAT.segmentSize },
        { salt: Buffer.from(KAT.salt, 'hex'), noncePrefix: Buffer.from(KAT.noncePrefix, 'hex') },
      ),
      [7],
    );
    expect(createHash('sha256').update(blob).digest('hex')).toBe(KAT_BLOB_SHA256);
    writeFileSync(path.join(t.dataDir, 'blobs', BLOB_KEY), blob);
    const ring = createKekRing(parseKek(MASTER_KEY));
    const prisma = createPrismaClient(t.config.databaseUrl);
    try {
      const owner = await prisma.user.findFirstOrThrow({ where: { role: 'organization' } });
      await prisma.encryptedFile.create({
        data: {
          id: FILE_ID,
          ownerId: owner.id,
          filename: 'kat.txt',
          contentType: 'text/plain',
          size: BigInt(Buffer.from(KAT.plaintext, 'hex').length),
          sha256: KAT_PLAINTEXT_SHA256,
          algorithm: 'aes_256_gcm',
          blobKey: BLOB_KEY,
          wrappedKey: new Uint8Array(wrapDek(ring, Buffer.from(KAT.dek, 'hex'), Buffer.from(`sfe:file-dek:v1:${FILE_ID}`))),
          kekId: ring.activeKeyId,
        },
      });
    } finally {
      await prisma.$disconnect();
    }
    env = { DATA_DIR: t.dataDir, MASTER_KEY };
  });
  afterAll(async () => t.cleanup());

  it('decrypts the known-answer file to its known plaintext', async () => {
    const out = path.join(t.dataDir, 'kat.out');
    const result = await sfe(['decrypt', '--file-id', FILE_ID, '--out', out, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.from(KAT.plaintext, 'hex'));
    expect(JSON.parse(result.stdout)).toMatchObject({ fileId: FILE_ID, size: 100, sha256: KAT_PLAINTEXT_SHA256 });
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('decrypts an uploaded multi-segment file byte for byte, and never overwrites', async () => {
    const out = path.join(t.dataDir, 'big.out');
    const result = await sfe(['decrypt', '--file-id', uploaded.id, '--out', out], env);
    expect(result.code, result.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(uploaded.sha256);
    const again = await sfe(['decrypt', '--file-id', uploaded.id, '--out', out], env);
    expect(again.code).toBe(3);
  });

  it('refuses an unknown file id (exit 3) and a wrong master key (exit 3, KEK_UNAVAILABLE), writing nothing', async () => {
    const out = path.join(t.dataDir, 'none.out');
    expect((await sfe(['decrypt', '--file-id', 'no-such-file', '--out', out], env)).code).toBe(3);
    const wrongKey = await sfe(['decrypt', '--file-id', FILE_ID, '--out', out], { ...env, MASTER_KEY: randomBytes(32).toString('hex') });
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toMatch(/KEK_UNAVAILABLE/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('a blob altered at rest fails (exit 1) and leaves no output', async () => {
    const blobPath = path.join(t.dataDir, 'blobs', BLOB_KEY);
    const blob = readFileSync(blobPath);
    blob[blob.length - 5]! ^= 0x01;
    writeFileSync(blobPath, blob);
    const out = path.join(t.dataDir, 'tampered.out');
    const result = await sfe(['decrypt', '--file-id', FILE_ID, '--out', out], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not authenticate/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});
