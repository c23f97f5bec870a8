import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createPrismaClient } from '../../src/db/client.ts';
import { buildTestApp, makeDataDir, TEST_KDF } from '../helpers/app.ts';
import { databaseEnv, testDatabaseUrl } from '../helpers/database.ts';
import { newUser, uploadFile } from '../helpers/fixtures.ts';

const [K0, K1, K2] = [0, 1, 2].map(() => randomBytes(32).toString('hex')) as [string, string, string];
const id = (hex: string) => kekId(parseKek(hex));
const silent = { log: { error() {} } };

describe('KEK rotation jobs: interrupted, superseded, and values that do not open', () => {
  let dataDir: string;
  const fileIds: string[] = [];

  const open = (env: Record<string, string>): Promise<Container> =>
    createContainer(
      { ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...databaseEnv(dataDir), KEK_ROTATION_BATCH_SIZE: '2', KEK_ROTATION_LEASE_MS: '500', ...env }), kdf: TEST_KDF },
      silent,
    );

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const t = await buildTestApp({ dataDir, env: { MASTER_KEY: K0 } });
    const org = await newUser(t.app, 'organization');
    for (let i = 0; i < 9; i++) fileIds.push((await uploadFile(t.app, org, { data: randomBytes(10 + i) })).id);
    await t.close();
  });
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a run stopped between batches keeps everything readable; with a newer key configured the rerun starts over to it', async () => {
    const first = await open({ MASTER_KEY: K1, MASTER_KEY_PREVIOUS: K0 });
    try {
      const { job, run } = await first.services.kek.begin(null);
      const stop = new AbortController();
      await expect(run({ signal: stop.signal, onProgress: () => stop.abort() })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const status = await first.services.kek.status();
      expect(status.rotation).toMatchObject({ id: job.id, status: 'running', done: 2 });
      expect(status.keys.find((k) => k.keyId === id(K1))?.wrappedDeks).toBe(2);
      expect((await first.services.kek.verify({ deep: true })).ok).toBe(true);
      // As if the run had died after committing a batch and before auditing it.
      const prisma = createPrismaClient(first.config.databaseUrl);
      await prisma.rotationJob.update({ where: { id: job.id }, data: { lastBatch: JSON.stringify({ jobId: job.id, rewrapped: 2, failed: 0, throughFileId: 'x' }) } });
      await prisma.$disconnect();
    } finally {
      await first.close();
    }

    // The operator moved on to K2 before rerunning: rows already on K1 must not be skipped.
    const second = await open({ MASTER_KEY: K2, MASTER_KEY_PREVIOUS: `${K1},${K0}` });
    try {
      const { run, resumed } = await second.services.kek.begin(null);
      expect(resumed).toBe(false);
      const report = await run();
      expect(report.rewrapped).toBe(9);
      expect(report.after).toEqual({ [id(K2)]: 9 });
      const jobs = await createPrismaClient(second.config.databaseUrl).rotationJob.findMany({ orderBy: { createdAt: 'asc' } });
      expect(jobs.map((j) => j.status)).toEqual(['failed', 'completed']);
      expect(jobs[0]?.error).toMatch(/superseded/);
      expect(jobs[0]?.lastBatch).toBeNull();
      const recovered = (await createPrismaClient(second.config.databaseUrl).cryptoLog.findMany({ where: { operation: 'dek_rewrapped' } })).filter(
        (r) => JSON.parse(r.details).recovered === true,
      );
      expect(recovered.map((r) => JSON.parse(r.details))).toEqual([{ jobId: jobs[0]?.id, rewrapped: 2, failed: 0, throughFileId: 'x', recovered: true }]);
    } finally {
      await second.close();
    }
  });

  it('a wrapped DEK that does not open is reported by rotate and verify, by file id, and stays as it was', async () => {
    const prisma = createPrismaClient(testDatabaseUrl(dataDir) ?? `file:${dataDir}/sfe.db`);
    const victim = fileIds[4]!;
    const row = await prisma.encryptedFile.findUniqueOrThrow({ where: { id: victim } });
    const damaged = Buffer.from(row.wrappedKey!);
    damaged[damaged.length - 1]! ^= 1;
    await prisma.encryptedFile.update({ where: { id: victim }, data: { wrappedKey: new Uint8Array(damaged) } });
    await prisma.$disconnect();

    const later = randomBytes(32).toString('hex');
    const container = await open({ MASTER_KEY: later, MASTER_KEY_PREVIOUS: K2 });
    try {
      const report = await (await container.services.kek.begin(null)).run();
      expect(report).toMatchObject({ rewrapped: 8, failed: 1, verify: { ok: false, checked: 9 } });
      expect(report.rotation.status).toBe('failed');
      expect(report.after).toEqual({ [id(later)]: 8, [id(K2)]: 1 });
      const verify = await container.services.kek.verify({ deep: false });
      expect(verify.failed).toEqual([{ fileId: victim, reason: 'unwrap_failed' }]);
      const audit = await createPrismaClient(container.config.databaseUrl).cryptoLog.findMany({ where: { operation: 'dek_rewrapped', success: false } });
      expect(audit.some((r) => JSON.parse(r.details).failedFileIds === victim)).toBe(true);
      // The next rotation may start (the lock was freed) and reports the same file again.
      const again = await (await container.services.kek.begin(null)).run();
      expect(again).toMatchObject({ rewrapped: 0, failed: 1 });
    } finally {
      await container.close();
    }
  });
});
