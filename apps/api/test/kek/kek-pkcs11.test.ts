import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptionFailedError, generateDek, unwrapDek, wrapDek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { deriveArchiveKey, parseArchiveHeader, ARCHIVE_HEADER_LENGTH } from '../../src/modules/backup/archive-crypto.ts';
import { verifyArchive } from '../../src/modules/backup/archive-reader.ts';
import { openArchiveInput } from '../../src/stores/backup/backup-files.ts';
import { KekProviderUnavailableError, openKekProvider } from '../../src/stores/kek/index.ts';
import { buildTestApp, login, makeDataDir, type Session, type TestApp } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { newUser, sha256, uploadFile } from '../helpers/fixtures.ts';
import { USER_PIN, startSoftHsm, type SoftHsm } from '../helpers/softhsm.ts';

// KEK_PROVIDER=pkcs11 against SoftHSM2: the KEK is a non-extractable AES-256 key in
// the token, every wrap and unwrap happens there; rotation moves to a second key
// under another label; kek verify, backup and restore work with it.

const ADMIN_PASSWORD = 'operator pass phrase';
const PASSPHRASE = 'backup passphrase for the hsm drill';
const AD = Buffer.from('file:hsm');

let hsm: SoftHsm;
let dataDir: string;

beforeAll(async () => {
  hsm = await startSoftHsm();
  hsm.generateKey('kek-2026a');
  hsm.generateKey('kek-2026b');
  hsm.generateKey('kek-exportable', { extractable: true });
  dataDir = await makeDataDir();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await hsm.cleanup();
});

const configFor = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env });

describe('pkcs11 KEK provider (SoftHSM2)', () => {
  it('wraps and unwraps inside the token under a stable key id that is not the key', async () => {
    const first = await openKekProvider(configFor(hsm.env('kek-2026a')));
    const keyId = first.ring.activeKeyId;
    const dek = generateDek();
    const wrapped = wrapDek(first.ring, dek, AD);
    expect(wrapped.length).toBe(69);
    expect(unwrapDek(first.ring, wrapped, AD).equals(dek)).toBe(true);
    expect(() => unwrapDek(first.ring, wrapped, Buffer.from('file:other'))).toThrow(DecryptionFailedError);
    const flipped = Buffer.from(wrapped);
    flipped[40] = (flipped[40] ?? 0) ^ 0x80;
    expect(() => unwrapDek(first.ring, flipped, AD)).toThrow(DecryptionFailedError);
    expect(first.references()).toEqual([{ keyId, provider: 'pkcs11', label: 'kek-2026a', active: true }]);
    await first.close();

    const again = await openKekProvider(configFor(hsm.env('kek-2026a')));
    expect(again.ring.activeKeyId).toBe(keyId);
    expect(unwrapDek(again.ring, wrapped, AD).equals(dek)).toBe(true);
    await again.close();
    const other = await openKekProvider(configFor(hsm.env('kek-2026b', ['kek-2026a'])));
    expect(other.ring.activeKeyId).toMatch(/^kek_[0-9a-f]{16}$/);
    expect(other.ring.activeKeyId).not.toBe(keyId);
    expect(other.ring.keyIds()).toEqual([other.ring.activeKeyId, keyId]);
    expect(unwrapDek(other.ring, wrapped, AD).equals(dek)).toBe(true);
    await other.close();

    expect(keyId).toMatch(/^kek_[0-9a-f]{16}$/);
    // The token will not hand the key out.
    expect(hsm.tryReadKeyValue('kek-2026a')).toContain('CKR_ATTRIBUTE_SENSITIVE');
  });

  it('opens a new session when the HSM ends it, and refuses a different key put under the same label', async () => {
    hsm.generateKey('kek-reconnect');
    const provider = await openKekProvider(configFor(hsm.env('kek-reconnect')));
    try {
      const dek = generateDek();
      const wrapped = wrapDek(provider.ring, dek, AD);
      // Another user of the module finalizes it (as an HSM restart does): every session of ours is gone.
      hsm.generateKey('kek-unrelated');
      expect(unwrapDek(provider.ring, wrapped, AD).equals(dek)).toBe(true);
      hsm.generateKey('kek-unrelated-2');
      const again = wrapDek(provider.ring, dek, AD);
      expect(unwrapDek(provider.ring, again, AD).equals(dek)).toBe(true);
      // The label now names another key: it is not used, for wrapping or unwrapping.
      hsm.replaceKey('kek-reconnect');
      expect(() => unwrapDek(provider.ring, wrapped, AD)).toThrow(KekProviderUnavailableError);
      expect(() => wrapDek(provider.ring, dek, AD)).toThrow(KekProviderUnavailableError);
    } finally {
      await provider.close();
    }
  });

  it('refuses an extractable key, an unknown label, a wrong PIN and an unknown token, never echoing the PIN', async () => {
    const refusal = async (env: Record<string, string>) =>
      openKekProvider(configFor(env)).then(
        async (provider) => {
          await provider.close();
          return null;
        },
        (error: unknown) => error as Error,
      );
    const extractable = await refusal(hsm.env('kek-exportable'));
    expect(extractable).toBeInstanceOf(KekProviderUnavailableError);
    expect(extractable?.message).toMatch(/non-extractable/);
    expect((await refusal(hsm.env('no-such-key')))?.message).toMatch(/found 0/);
    const wrongPin = await refusal({ ...hsm.env('kek-2026a'), PKCS11_PIN: '999999' });
    expect(wrongPin?.message).toMatch(/refused the PIN/);
    expect(wrongPin?.message).not.toContain('999999');
    expect((await refusal({ ...hsm.env('kek-2026a'), PKCS11_TOKEN_LABEL: 'other' }))?.message).toMatch(/no token labelled/);
    expect(() => configFor({ ...hsm.env('kek-2026a'), MASTER_KEY: randomBytes(32).toString('hex') })).toThrow(/never leaves the HSM/);
  });

  it('serves uploads and downloads, rotates to the key under a new label over the admin API, and kek verify --deep passes', async () => {
    const created = await sfe(['admin', 'create', '--username', 'hsm.admin', '--password-stdin'], { DATA_DIR: dataDir, ...hsm.env('kek-2026a') }, `${ADMIN_PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    const files: { id: string; sha256: string }[] = [];
    let owner: Session;
    let t: TestApp = await buildTestApp({ dataDir, env: { ...hsm.env('kek-2026a'), KEK_ROTATION_BATCH_SIZE: '2' } });
    let keyA = '';
    try {
      const admin = await login(t.app, 'hsm.admin', ADMIN_PASSWORD);
      keyA = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: admin.headers })).json().activeKeyId as string;
      expect(keyA).toMatch(/^kek_[0-9a-f]{16}$/);
      owner = await newUser(t.app, 'organization');
      for (const size of [0, 1, 65_537, 200_000, 10]) {
        const data = randomBytes(size);
        const file = await uploadFile(t.app, owner, { data, filename: `h${size}.bin` });
        files.push({ id: file.id, sha256: sha256(data) });
      }
    } finally {
      await t.close();
    }

    t = await buildTestApp({ dataDir, env: { ...hsm.env('kek-2026b', ['kek-2026a']), KEK_ROTATION_BATCH_SIZE: '2' } });
    let keyB = '';
    try {
      const admin = await login(t.app, 'hsm.admin', ADMIN_PASSWORD);
      const before = (await t.app.inject({ method: 'GET', url: '/api/v1/admin/kek', headers: admin.headers })).json();
      keyB = before.activeKeyId as string;
      expect(keyB).not.toBe(keyA);
      expect(before.keys).toEqual([
        { keyId: keyB, wrappedDeks: 0, active: true, configured: true },
        { keyId: keyA, wrappedDeks: files.length, active: false, configured: true },
      ]);
      const started = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/rotate', headers: admin.headers });
      expect(started.statusCode, started.body).toBe(202);
      let rotation = started.json();
      for (let i = 0; i < 400 && rotation.status === 'running'; i++) {
        await sleep(25);
        rotation = (await t.app.inject({ method: 'GET', url: `/api/v1/admin/kek/rotations/${rotation.id}`, headers: admin.headers })).json();
      }
      expect(rotation).toMatchObject({ status: 'completed', rewrapped: files.length, failed: 0, toKeyId: keyB });
      const overHttp = await t.app.inject({ method: 'POST', url: '/api/v1/admin/kek/verify', headers: admin.headers, payload: { deep: true } });
      expect(overHttp.json()).toEqual({ checked: files.length, ok: true, failed: [] });
      owner = await login(t.app, owner.username, owner.password);
      for (const file of files) {
        const download = await t.app.inject({ method: 'GET', url: `/api/v1/files/${file.id}/content`, headers: owner.headers });
        expect(download.statusCode).toBe(200);
        expect(sha256(download.rawPayload)).toBe(file.sha256);
      }
    } finally {
      await t.close();
    }

    // The old label can go: everything is under the new key.
    const verify = await sfe(['kek', 'verify', '--deep', '--json'], { DATA_DIR: dataDir, ...hsm.env('kek-2026b') });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({ checked: files.length, ok: true, failed: [] });

    // Copying the key out is refused: it has no exportable form.
    const exported = await sfe(['kek', 'backup', '--out', path.join(dataDir, 'kek.bak'), '--passphrase-stdin'], { DATA_DIR: dataDir, ...hsm.env('kek-2026b') }, `${PASSPHRASE}\n${PASSPHRASE}\n`);
    expect(exported.code).toBe(3);
    expect(exported.stderr).toMatch(/non-extractable key inside the HSM/);

    // A backup names the key by id and label; a restore with the HSM configured verifies deep.
    const archive = path.join(dataDir, '..', `${path.basename(dataDir)}-hsm.sfebak`);
    const backup = await sfe(['backup', '--out', archive, '--passphrase-stdin', '--json'], { DATA_DIR: dataDir, ...hsm.env('kek-2026b') }, `${PASSPHRASE}\n${PASSPHRASE}\n`);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ files: files.length, keyIds: [keyB] });
    const input = await openArchiveInput(archive, ARCHIVE_HEADER_LENGTH);
    const header = parseArchiveHeader(input.prefix);
    const verified = await verifyArchive(input, header, await deriveArchiveKey(PASSPHRASE, header), () => {});
    expect(verified.manifest.keys).toEqual([{ keyId: keyB, provider: 'pkcs11', label: 'kek-2026b' }]);
    const raw = await readFile(archive);
    expect(raw.includes(Buffer.from(USER_PIN))).toBe(false);

    const target = `${dataDir}-restored`;
    const restored = await sfe(['restore', '--in', archive, '--data-dir', target, '--passphrase-stdin', '--json'], { DATA_DIR: dataDir, ...hsm.env('kek-2026b') }, `${PASSPHRASE}\n`);
    try {
      expect(restored.code, restored.stderr).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({ files: files.length, keyIds: [keyB], verify: { checked: files.length, ok: true } });
    } finally {
      await rm(target, { recursive: true, force: true });
      await rm(archive, { force: true });
    }
    // Several CLI processes in a row (each applies migrations and opens the token).
  }, 300_000);
});
