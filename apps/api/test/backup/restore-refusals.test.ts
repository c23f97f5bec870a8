import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SIZE, kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { deriveArchiveKey, encryptArchive, newArchiveHeader, ARCHIVE_HEADER_LENGTH } from '../../src/modules/backup/archive-crypto.ts';
import { encodeManifest, type Manifest } from '../../src/modules/backup/archive-manifest.ts';
import { createArchiveWriter } from '../../src/modules/backup/archive-tar.ts';
import { BackupRefusedError, createBackup, restoreBackup, type BackupRefusal } from '../../src/modules/backup/index.ts';
import { buildTestApp, makeDataDir, TEST_KDF } from '../helpers/app.ts';
import { newUser, uploadFile } from '../helpers/fixtures.ts';

// Every refusal of a restore leaves the target exactly as it was (absent, or empty,
// or holding what it held) and throws BackupRefusedError naming the reason.

const MASTER_KEY = randomBytes(32).toString('hex');
const KEY_ID = kekId(parseKek(MASTER_KEY));
const PASSPHRASE = 'refusal drill passphrase';
/** The segmented stream's own header, right after ours (packages/crypto/FORMAT.md). */
const STREAM_HEADER = 49;
const SEALED_SEGMENT = DEFAULT_SEGMENT_SIZE + 16;

let work: string;
let archive: Buffer;
let counter = 0;

beforeAll(async () => {
  work = await makeDataDir();
  const t = await buildTestApp({ env: { MASTER_KEY } });
  const org = await newUser(t.app, 'organization');
  await newUser(t.app, 'consultant');
  for (const size of [10, 3 * DEFAULT_SEGMENT_SIZE]) await uploadFile(t.app, org, { data: randomBytes(size) });
  const cli = await createContainer({ ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: t.dataDir, MASTER_KEY }), kdf: TEST_KDF }, { log: { error() {} } });
  const file = path.join(work, 'good.sfebak');
  try {
    await createBackup(cli, { out: file, passphrase: PASSPHRASE });
  } finally {
    await cli.close();
    await t.cleanup();
  }
  archive = await readFile(file);
  // Enough segments for a cut at the first and at the last segment boundary to differ.
  expect(archive.length).toBeGreaterThan(ARCHIVE_HEADER_LENGTH + STREAM_HEADER + 3 * SEALED_SEGMENT);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeArchive(bytes: Buffer): Promise<string> {
  const file = path.join(work, `case-${++counter}.sfebak`);
  await writeFile(file, bytes);
  return file;
}

/** A target in one of the states a restore may start from. */
async function target(state: 'absent' | 'empty'): Promise<string> {
  const dir = path.join(work, `target-${++counter}`);
  if (state === 'empty') await mkdir(dir);
  return dir;
}

async function stateOf(dir: string): Promise<string[] | 'absent' | 'file'> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'file';
  } catch {
    return 'absent';
  }
  return (await readdir(dir, { recursive: true })).sort();
}

async function expectRefused(
  reason: BackupRefusal,
  options: { bytes?: Buffer; inFile?: string; passphrase?: string; configuredKeyIds?: string[]; dataDir?: string },
): Promise<BackupRefusedError> {
  const dataDir = options.dataDir ?? (await target(counter % 2 === 0 ? 'absent' : 'empty'));
  const before = await stateOf(dataDir);
  const passphrase = options.passphrase ?? PASSPHRASE;
  const error: unknown = await restoreBackup({
    inFile: options.inFile ?? (await writeArchive(options.bytes ?? archive)),
    dataDir,
    passphrase,
    configuredKeyIds: options.configuredKeyIds ?? [KEY_ID],
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY },
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BackupRefusedError);
  expect(error).toMatchObject({ code: 'BACKUP_REFUSED', reason });
  expect((error as Error).message).not.toContain(passphrase);
  expect(await stateOf(dataDir)).toEqual(before);
  return error as BackupRefusedError;
}

/** An archive sealed like createBackup's, with whatever entries a case needs. */
async function seal(entries: Array<{ name: string; data: Buffer }>): Promise<Buffer> {
  const header = newArchiveHeader();
  const key = await deriveArchiveKey(PASSPHRASE, header);
  const writer = createArchiveWriter(new Date());
  const chunks: Buffer[] = [header.bytes];
  const sealed = pipeline(writer.output, encryptArchive(key, header), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  for (const entry of entries) await writer.entry(entry.name, entry.data.length, [entry.data]);
  writer.finalize();
  await sealed;
  return Buffer.concat(chunks);
}

describe('restore refusals', () => {
  it('restores the untouched archive (the cases below differ from it in one way each)', async () => {
    const dataDir = await target('empty');
    const result = await restoreBackup({
      inFile: await writeArchive(archive),
      dataDir,
      passphrase: PASSPHRASE,
      configuredKeyIds: [KEY_ID],
      env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY },
    });
    expect(result).toMatchObject({ files: 2, users: 2, keyIds: [KEY_ID] });
  });

  it('refuses a wrong passphrase', async () => {
    await expectRefused('undecryptable', { passphrase: 'not the passphrase at all' });
  });

  const lastBoundary = (): number => {
    const body = archive.length - ARCHIVE_HEADER_LENGTH - STREAM_HEADER;
    return ARCHIVE_HEADER_LENGTH + STREAM_HEADER + Math.floor((body - 1) / SEALED_SEGMENT) * SEALED_SEGMENT;
  };
  it.each<[string, () => number, BackupRefusal]>([
    ['empty', () => 0, 'malformed'],
    ['inside the header', () => 10, 'incomplete'],
    ['after the header', () => ARCHIVE_HEADER_LENGTH, 'undecryptable'],
    ['after the stream header', () => ARCHIVE_HEADER_LENGTH + STREAM_HEADER, 'undecryptable'],
    ['inside the first segment', () => ARCHIVE_HEADER_LENGTH + STREAM_HEADER + 1000, 'undecryptable'],
    ['at the first segment boundary', () => ARCHIVE_HEADER_LENGTH + STREAM_HEADER + SEALED_SEGMENT, 'undecryptable'],
    ['at the last segment boundary (the manifest cut off)', lastBoundary, 'undecryptable'],
    ['one byte short', () => archive.length - 1, 'undecryptable'],
  ])('refuses an archive truncated %s', async (_label, at, reason) => {
    await expectRefused(reason, { bytes: archive.subarray(0, at()) });
  });

  it('refuses trailing bytes after the last segment', async () => {
    await expectRefused('undecryptable', { bytes: Buffer.concat([archive, Buffer.from([0])]) });
  });

  it.each<[string, () => number, BackupRefusal]>([
    ['the magic', () => 0, 'malformed'],
    ['the version', () => 6, 'malformed'],
    ['the scrypt cost', () => 8, 'undecryptable'],
    ['the salt', () => 20, 'undecryptable'],
    ['the stream header', () => ARCHIVE_HEADER_LENGTH + 20, 'undecryptable'],
    ['the first segment', () => ARCHIVE_HEADER_LENGTH + STREAM_HEADER + 5, 'undecryptable'],
    ['the middle', () => Math.floor(archive.length / 2), 'undecryptable'],
    ['the last tag', () => archive.length - 1, 'undecryptable'],
  ])('refuses a byte flipped in %s', async (_label, at, reason) => {
    const bytes = Buffer.from(archive);
    const offset = at();
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
    await expectRefused(reason, { bytes });
  });

  it('refuses when a key id the archive needs is not configured, and names it', async () => {
    const other = kekId(randomBytes(32));
    const error = await expectRefused('missing_key_ids', { configuredKeyIds: [other] });
    expect(error.missingKeyIds).toEqual([KEY_ID]);
    expect(error.message).toContain(KEY_ID);
    expect(error.message).not.toContain(other);
    expect(error.message).not.toContain(MASTER_KEY);
  });

  it('refuses a target that is not empty, or not a directory, and leaves it as it was', async () => {
    const dir = await target('empty');
    await writeFile(path.join(dir, 'keep.txt'), 'mine');
    await expectRefused('target_not_empty', { dataDir: dir });
    expect(await readFile(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    const file = path.join(work, `plain-file-${++counter}`);
    await writeFile(file, 'not a directory');
    await expectRefused('target_not_empty', { dataDir: file });
    expect(await readFile(file, 'utf8')).toBe('not a directory');
  });

  it('refuses a missing archive and a file that is not one', async () => {
    await expectRefused('archive_not_found', { inFile: path.join(work, 'no-such.sfebak') });
    await expectRefused('malformed', { bytes: randomBytes(4096) });
  });

  it('undoes a restore whose archive changes after it was verified', async () => {
    const inFile = await writeArchive(archive);
    const altered = Buffer.from(archive);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0x01;
    for (const state of ['absent', 'empty'] as const) {
      await writeFile(inFile, archive);
      const dataDir = await target(state);
      let swapped = false;
      const error: unknown = await restoreBackup({
        inFile,
        dataDir,
        passphrase: PASSPHRASE,
        configuredKeyIds: [KEY_ID],
        env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', MASTER_KEY },
        onProgress: (progress) => {
          // Reported before the second pass opens the file: every part but the last
          // segment's is written before the change is noticed.
          if (progress.phase === 'restore' && !swapped) {
            swapped = true;
            writeFileSync(inFile, altered);
          }
        },
      }).catch((e: unknown) => e);
      expect(swapped).toBe(true);
      expect(error).toBeInstanceOf(BackupRefusedError);
      expect(error).toMatchObject({ reason: 'undecryptable' });
      expect(await stateOf(dataDir)).toEqual(state === 'absent' ? 'absent' : []);
    }
  });

  it('refuses an authentic archive that ends before its manifest', async () => {
    await expectRefused('incomplete', { bytes: await seal([{ name: 'sfe.db', data: Buffer.from('db') }]) });
  });

  it('refuses an authentic archive whose parts do not match the manifest', async () => {
    const manifest: Manifest = {
      format: 'sfe-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      keyStore: 'embedded',
      counts: { users: 0, files: 0, blobs: 0, keyStoreRecords: 0 },
      keyIds: [],
      parts: [
        { name: 'sfe.db', size: 2, sha256: '0'.repeat(64) },
        { name: 'keystore.jsonl', size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
      ],
    };
    const entries = [
      { name: 'sfe.db', data: Buffer.from('db') },
      { name: 'keystore.jsonl', data: Buffer.alloc(0) },
      { name: 'manifest.json', data: encodeManifest(manifest) },
    ];
    await expectRefused('malformed', { bytes: await seal(entries) });
    await expectRefused('malformed', { bytes: await seal([...entries, { name: 'blobs/AAAAAAAAAAAAAAAAAAAAAA', data: Buffer.from('late') }]) });
    await expectRefused('malformed', { bytes: await seal([{ name: '../escape', data: Buffer.from('x') }, ...entries]) });
  });
});
