import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TEST_KDF, makeDataDir } from '../helpers/app.ts';
import { databaseEnv } from '../helpers/database.ts';
import { approve, downloadRaw, loginAs, registerUser, requestAccess, uploadFile } from '../helpers/fixtures.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]))),
  );
  return nested.flat();
}

/** P21: canary secrets never appear in plaintext in the logs or anywhere under DATA_DIR. */
describe('P21: canary secrets', () => {
  it('passwords, the master key, the JWT secret and file plaintext stay out of logs and the data directory', async () => {
    const lines: Buffer[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(Buffer.from(chunk));
        callback();
      },
    });
    const dataDir = await makeDataDir();
    const masterKey = randomBytes(32).toString('hex');
    const jwtSecret = randomBytes(32).toString('base64url');
    const config = {
      ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'trace', DATA_DIR: dataDir, ...databaseEnv(dataDir), MASTER_KEY: masterKey, JWT_SECRET: jwtSecret }),
      kdf: TEST_KDF,
    };
    const app = await buildApp(config, { logStream });
    const password = `canary-password-${randomBytes(8).toString('hex')}`;
    const plaintext = Buffer.from(`canary-plaintext-${randomBytes(16).toString('hex')}`);
    try {
      await app.ready();
      const orgUser = await registerUser(app, 'organization', { password });
      const conUser = await registerUser(app, 'consultant', { password });
      const org = await loginAs(app, orgUser.user.username, password);
      const con = await loginAs(app, conUser.user.username, password);
      const file = await uploadFile(app, org, { data: plaintext, filename: 'canary.txt' });
      const pending = await requestAccess(app, con, file.id);
      await approve(app, org, pending.id);
      expect((await downloadRaw(app, con, pending.id, password)).statusCode).toBe(200);
      await downloadRaw(app, con, pending.id, `${password}-wrong`);
      await app.inject({ method: 'GET', url: `/api/v1/files?q=${password}`, headers: org.headers });
    } finally {
      await app.close();
    }
    const canaries = [
      { what: 'password', bytes: Buffer.from(password) },
      { what: 'MASTER_KEY (hex)', bytes: Buffer.from(masterKey) },
      { what: 'MASTER_KEY (raw)', bytes: Buffer.from(masterKey, 'hex') },
      { what: 'JWT_SECRET', bytes: Buffer.from(jwtSecret) },
      { what: 'file plaintext', bytes: plaintext },
    ];
    const log = Buffer.concat(lines);
    expect(log.length).toBeGreaterThan(0);
    for (const canary of canaries) expect(log.includes(canary.bytes), `${canary.what} in the log`).toBe(false);
    for (const file of await filesUnder(dataDir)) {
      const bytes = await readFile(file);
      for (const canary of canaries) expect(bytes.includes(canary.bytes), `${canary.what} in ${path.basename(file)}`).toBe(false);
    }
  });
});
