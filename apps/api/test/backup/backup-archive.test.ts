import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecryptStream, kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createPrismaClient } from '../../src/db/client.ts';
import { BackupRefusedError, createBackup, type BackupProgress } from '../../src/modules/backup/index.ts';
import { EMBEDDED_KEY_STORE_FILE, keyFieldsOf, openEmbeddedKeyStore } from '../../src/stores/keystore/index.ts';
import { buildTestApp, makeDataDir, TEST_KDF, type TestApp } from '../helpers/app.ts';
import { newUser, uploadFile } from '../helpers/fixtures.ts';

// What createBackup writes and refuses, read back by hand as README.md describes
// (scrypt, the segmented stream, tar), not through the restore code.

const MASTER_KEY = randomBytes(32).toString('hex');
const KEY_ID = kekId(parseKek(MASTER_KEY));
const PASSPHRASE = 'archive test passphrase';

let t: TestApp;
let cli: Container;
let work: string;
let consultantId: string;
let counter = 0;
const out = () => path.join(work, `backup-${++counter}.sfebak`);

beforeAll(async () => {
  t = await buildTestApp({ env: { MASTER_KEY } });
  work = await makeDataDir();
  const org = await newUser(t.app, 'organization');
  consultantId = (await newUser(t.app, 'consultant')).id;
  for (const size of [0, 70_000]) await uploadFile(t.app, org, { data: randomBytes(size) });
  cli = await createContainer({ ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: t.dataDir, MASTER_KEY }), kdf: TEST_KDF }, { log: { error() {} } });
});

afterAll(async () => {
  await cli.close();
  await t.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function openByHand(file: string, passphrase: string): Promise<{ plaintext: Buffer; entries: Array<{ name: string; data: Buffer }> }> {
  const bytes = await readFile(file);
  const header = bytes.subarray(0, 43);
  expect(header.subarray(0, 7)).toEqual(Buffer.from('SFEBAK\x01', 'latin1'));
  const [log2N, r, p] = [header[8], header[9], header[10]] as [number, number, number];
  const key = scryptSync(passphrase.normalize('NFC'), header.subarray(11), 32, { N: 2 ** log2N, r, p, maxmem: 256 * 1024 * 1024 });
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([bytes.subarray(43)]), createDecryptStream(key, header), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  const plaintext = Buffer.concat(chunks);
  const extract = tarExtract();
  extract.end(plaintext);
  const entries: Array<{ name: string; data: Buffer }> = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    entries.push({ name: entry.header.name, data: Buffer.concat(parts) });
  }
  return { plaintext, entries };
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function auditRecords(success: boolean) {
  const prisma = createPrismaClient(t.config.databaseUrl);
  try {
    return await prisma.cryptoLog.findMany({ where: { operation: 'backup_created', success }, orderBy: { seq: 'asc' } });
  } finally {
    await prisma.$disconnect();
  }
}

describe('createBackup', () => {
  it('writes the documented archive: header, segmented stream, tar entries in order, manifest last', async () => {
    const file = out();
    const result = await createBackup(cli, { out: file, passphrase: PASSPHRASE });
    expect(result).toMatchObject({ file, files: 2, users: 2, keyIds: [KEY_ID] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(work)).toEqual([path.basename(file)]);

    const { plaintext, entries } = await openByHand(file, PASSPHRASE);
    const names = entries.map((e) => e.name);
    expect(names.slice(0, 2)).toEqual(['sfe.db', 'keystore.jsonl']);
    expect(names.at(-1)).toBe('manifest.json');
    expect(names.slice(2, -1)).toHaveLength(2);
    for (const name of names.slice(2, -1)) expect(name).toMatch(/^blobs\/[A-Za-z0-9_-]{22,128}$/);
    expect(entries[0]?.data.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');

    const manifest = JSON.parse(entries.at(-1)?.data.toString('utf8') ?? '{}');
    expect(manifest).toMatchObject({
      format: 'sfe-backup',
      version: 1,
      keyStore: 'embedded',
      counts: { users: 2, files: 2, blobs: 2, keyStoreRecords: 2 },
      keyIds: [KEY_ID],
    });
    expect(manifest.parts).toEqual(entries.slice(0, -1).map((e) => ({ name: e.name, size: e.data.length, sha256: sha(e.data) })));
    const records = (entries[1]?.data.toString('utf8') ?? '').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records.map((record) => record.userId)).toContain(consultantId);

    // Key ids, never keys; and never the passphrase.
    for (const secret of [Buffer.from(MASTER_KEY, 'hex'), Buffer.from(MASTER_KEY), Buffer.from(PASSPHRASE)]) {
      expect(plaintext.includes(secret)).toBe(false);
    }
    const [audited] = (await auditRecords(true)).slice(-1);
    expect(JSON.parse(audited?.details ?? '{}')).toMatchObject({ file, files: 2, users: 2, bytes: result.bytes, keyIds: KEY_ID });
  });

  it('refuses a passphrase under 12 characters and writes nothing', async () => {
    const file = out();
    const error: unknown = await createBackup(cli, { out: file, passphrase: 'eleven char' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupRefusedError);
    expect(error).toMatchObject({ reason: 'weak_passphrase' });
    expect((error as Error).message).not.toContain('eleven char');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never overwrites an existing file', async () => {
    const file = out();
    await writeFile(file, 'an older backup');
    await expect(createBackup(cli, { out: file, passphrase: PASSPHRASE })).rejects.toMatchObject({ reason: 'output_exists' });
    expect(await readFile(file, 'utf8')).toBe('an older backup');
    await rm(file);
  });

  it('starts over when a key record changes between the database copy and the key store read', async () => {
    const other = await openEmbeddedKeyStore(path.join(t.dataDir, EMBEDDED_KEY_STORE_FILE));
    try {
      const record = await other.get(consultantId);
      if (record === null) throw new Error('consultant has no key record');
      const salt = randomBytes(16);
      const phases: BackupProgress[] = [];
      let changed = false;
      const file = out();
      await createBackup(cli, {
        out: file,
        passphrase: PASSPHRASE,
        onProgress: (progress) => {
          phases.push(progress);
          if (progress.phase === 'database' && progress.done === 1 && !changed) {
            changed = true;
            // The embedded store runs the statement synchronously, so the change lands
            // right here: after the copy, before the key store is read.
            void other.replace(consultantId, record, { ...keyFieldsOf(record), salt });
          }
        },
      });
      expect(phases.filter((p) => p.phase === 'database' && p.done === 1)).toHaveLength(2);
      const { entries } = await openByHand(file, PASSPHRASE);
      const lines = (entries[1]?.data.toString('utf8') ?? '').trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(lines.find((line) => line.userId === consultantId)?.salt).toBe(salt.toString('base64'));
      await rm(file);
    } finally {
      await other.close();
    }
  });

  it('fails without leaving a file, a partial file or its staging directory when a blob is lost', async () => {
    const prisma = createPrismaClient(t.config.databaseUrl);
    const row = await prisma.encryptedFile.findFirst({ where: { deletedAt: null } });
    await prisma.$disconnect();
    if (row === null) throw new Error('no file to lose');
    await rm(path.join(t.dataDir, 'blobs', row.blobKey));
    const before = await readdir(work);
    const file = out();
    const error: unknown = await createBackup(cli, { out: file, passphrase: PASSPHRASE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BackupRefusedError);
    expect((error as Error).message).toContain(row.id);
    expect(await readdir(work)).toEqual(before);
    const [failed] = (await auditRecords(false)).slice(-1);
    expect(JSON.parse(failed?.details ?? '{}')).toMatchObject({ file, reason: 'ConcurrentChangeError' });
  });
});
