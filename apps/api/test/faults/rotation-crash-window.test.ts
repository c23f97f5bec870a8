import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { EMBEDDED_KEY_STORE_FILE } from '../../src/stores/keystore/index.ts';
import { makeDataDir } from '../helpers/app.ts';
import { callJson, loginHttp, repeated, signUpHttp, streamedMultipart, uploadFile } from '../helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

/**
 * The one crash window a key rotation has: the key store already holds the new private
 * key, the app database still the old public key and the grants wrapped to it. Found by
 * killing the server the moment the key store's record changes. First every later
 * rotation answered 409 forever; then the next rotation closed the grants wrapped to the
 * lost key. Now the key store keeps the old key until the database commits: the grant
 * still downloads after the crash, and the next rotation carries it to the new key.
 */
let server: ServerProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await server?.kill();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('a crash between the key store write and the database write of a rotation loses no grant', { timeout: 240_000 }, async () => {
  const env = { MASTER_KEY: randomBytes(32).toString('hex'), JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
  dataDir = await makeDataDir();
  server = await startServer({ dataDir, env });
  const org = await signUpHttp(server.url, 'organization');
  const con = await signUpHttp(server.url, 'consultant');
  const upload = async () =>
    (await uploadFile(server!.url, org.accessToken, streamedMultipart({ filename: 'w.bin', size: 1000, source: () => repeated(randomBytes(1000), 1000) }))).json<{ id: string }>();
  const grantOn = async (fileId: string, token: string) => {
    const asked = await callJson<{ id: string }>(server!.url, 'POST', `/api/v1/files/${fileId}/access-requests`, { token, body: { reason: 'window' } });
    expect(asked.status).toBe(201);
    const approved = await callJson(server!.url, 'POST', `/api/v1/access-requests/${asked.body.id}/approve`, { token: org.accessToken, body: {} });
    expect(approved.status).toBe(200);
    return asked.body.id;
  };
  const download = async (id: string, token: string) => {
    const response = await fetch(`${server!.url}/api/v1/access-requests/${id}/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: con.password }),
    });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()).length };
  };
  const file = await upload();
  const grant = await grantOn(file.id, con.accessToken);

  // Kill the moment the key store's record changes: the database write has not happened yet.
  const keyStore = new Database(path.join(dataDir, EMBEDDED_KEY_STORE_FILE), { readonly: true });
  const fingerprint = () => (keyStore.prepare('SELECT fingerprint FROM private_keys WHERE user_id = ?').get(con.id) as { fingerprint: string }).fingerprint;
  const before = fingerprint();
  void callJson(server.url, 'POST', '/api/v1/users/me/keys/rotate', { token: con.accessToken, body: { password: con.password } }).catch(() => undefined);
  while (fingerprint() === before) await sleep(1);
  expect((await server.kill()).signal).toBe('SIGKILL');
  keyStore.close();

  server = await startServer({ dataDir, env });
  let session = await loginHttp(server.url, con.username, con.password);
  const keys = await callJson<{ fingerprint: string }>(server.url, 'GET', '/api/v1/users/me/keys', { token: session.accessToken });
  // The crash really fell in the window: the database still names the old key pair.
  expect(keys.body.fingerprint).toBe(before);
  // The old key is still in the key store: the grant wrapped to it opens, before any repair.
  expect(await download(grant, session.accessToken)).toEqual({ status: 200, bytes: 1000 });
  const stored = () =>
    new Database(path.join(dataDir!, EMBEDDED_KEY_STORE_FILE), { readonly: true }).prepare('SELECT fingerprint, previous FROM private_keys WHERE user_id = ?').get(con.id) as {
      fingerprint: string;
      previous: string | null;
    };
  const orphan = stored();
  expect(orphan.fingerprint).not.toBe(before);
  expect(JSON.parse(orphan.previous ?? '{}')).toMatchObject({ fingerprint: before });

  // A password change in this state moves both keys to the new password.
  const newPassword = `pw-${randomBytes(12).toString('base64url')}`;
  const changed = await callJson(server.url, 'POST', '/api/v1/users/me/password', { token: session.accessToken, body: { currentPassword: con.password, newPassword } });
  expect(changed.status, JSON.stringify(changed.body)).toBe(204);
  con.password = newPassword;
  session = await loginHttp(server.url, con.username, con.password);
  expect(await download(grant, session.accessToken)).toEqual({ status: 200, bytes: 1000 });
  expect(JSON.parse(stored().previous ?? '{}')).toMatchObject({ fingerprint: before });

  const rotated = await callJson<{ fingerprint: string; rewrappedGrants: number }>(server.url, 'POST', '/api/v1/users/me/keys/rotate', {
    token: session.accessToken,
    body: { password: con.password },
  });
  expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
  // Rotated from the key the database names; the grant moved to the new key, nothing closed.
  expect(rotated.body.rewrappedGrants).toBe(1);
  expect(rotated.body.fingerprint).not.toBe(orphan.fingerprint);
  const list = await callJson<{ items: Array<{ id: string; status: string }> }>(server.url, 'GET', '/api/v1/access-requests', { token: session.accessToken });
  expect(list.body.items.find((item) => item.id === grant)?.status).toBe('approved');
  expect(await download(grant, session.accessToken)).toEqual({ status: 200, bytes: 1000 });
  // Committed: one key pair again, the same in both stores; neither earlier key is kept.
  expect(stored()).toEqual({ fingerprint: rotated.body.fingerprint, previous: null });
  const again = await upload();
  const second = await grantOn(again.id, session.accessToken);
  expect(await download(second, session.accessToken)).toEqual({ status: 200, bytes: 1000 });
  expect((await callJson(server.url, 'POST', '/api/v1/users/me/keys/rotate', { token: session.accessToken, body: { password: con.password } })).status).toBe(200);
  expect(await download(grant, session.accessToken)).toEqual({ status: 200, bytes: 1000 });
});
