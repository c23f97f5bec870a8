import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { buildTestApp, makeDataDir, TEST_KDF } from '../helpers/app.ts';
import { databaseEnv } from '../helpers/database.ts';
import { newUser, uploadFile } from '../helpers/fixtures.ts';

const [K0, K1] = [0, 1].map(() => randomBytes(32).toString('hex')) as [string, string];
const FILES = 40;

/**
 * A KEK rotation runs in the serving process next to its requests. SQLite answers
 * synchronously, so a rotation that never gave the event loop a turn would hold every
 * request until its last batch: here a request sent after the first batch must be
 * answered while batches remain.
 */
describe('a KEK rotation shares the event loop', () => {
  it('answers a request between its batches, long before the last one', { timeout: 120_000 }, async () => {
    const dataDir = await makeDataDir();
    const t = await buildTestApp({ dataDir, env: { MASTER_KEY: K0 } });
    const org = await newUser(t.app, 'organization');
    for (let i = 0; i < FILES; i++) await uploadFile(t.app, org, { data: randomBytes(16) });
    await t.close();

    const server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const container = await createContainer(
      {
        ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...databaseEnv(dataDir), MASTER_KEY: K1, MASTER_KEY_PREVIOUS: K0, KEK_ROTATION_BATCH_SIZE: '1' }),
        kdf: TEST_KDF,
      },
      { log: { error() {} } },
    );
    try {
      const { run } = await container.services.kek.begin(null);
      let done = 0;
      let answeredAt: number | undefined;
      let asked: Promise<void> | undefined;
      const report = await run({
        onProgress: (progress) => {
          done = progress.done;
          asked ??= fetch(url).then(async (response) => {
            await response.text();
            answeredAt = done;
          });
        },
      });
      await asked;
      expect(report.rewrapped).toBe(FILES);
      expect(answeredAt).toBeDefined();
      expect(answeredAt!).toBeLessThan(FILES);
    } finally {
      await container.close();
      server.close();
    }
  });
});
