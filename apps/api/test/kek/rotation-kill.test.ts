import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KekStatus, Rotation } from '@sfe/contract';
import { kekId, parseKek } from '@sfe/crypto';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { buildTestApp, makeDataDir, TEST_KDF, type Session } from '../helpers/app.ts';
import { sfe, spawnSfe, type CliResult } from '../helpers/cli.ts';
import { newUser, sha256, uploadFile } from '../helpers/fixtures.ts';

// A key rotation killed with SIGKILL at a random point, then run again: nothing is
// ever unreadable (not even between the kill and the rerun, with DEKs under two
// keys), the rerun continues the dead run's job once its lease lapses, and the old
// key ends up wrapping nothing. Each run of the property rotates K_i -> K_(i+1) on the
// same data dir, so later runs start from the state the earlier kills left.
//
// The kill point is drawn either as a delay after spawning `sfe kek rotate` (0 to well
// past its whole run: before start-up, mid-job, after the end) or as "once the job has
// done >= n rows", read from the database while the child works, so mid-job kills do
// not depend on how fast this machine happens to be today.

const FILES = 300;
const BATCH_SIZE = 5;
const LEASE_MS = 1000;
const RUNS = 5;
const MAX_DELAY_MS = 9000;

type KillPoint = { at: 'delay'; ms: number } | { at: 'progress'; done: number };
type Phase = 'before-claim' | 'mid-job' | 'after-end';

interface RotateJson {
  rotationId: string;
  rewrapped: number;
  failed: number;
  before: Record<string, number>;
  after: Record<string, number>;
  resumed: boolean;
  verify: { checked: number; ok: boolean };
}
interface VerifyJson {
  checked: number;
  ok: boolean;
  failed: Array<{ fileId: string; reason: string }>;
}

const newKek = () => randomBytes(32).toString('hex');
const idOf = (hex: string) => kekId(parseKek(hex));

function json<T>(result: CliResult, what: string): T {
  expect(result.code, `${what} exited ${String(result.code)} (${String(result.signal)}): ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe('sfe kek rotate killed with SIGKILL at a random point, then run again', () => {
  let dataDir: string;
  let owner: Session;
  const expected = new Map<string, string>();
  const keys: string[] = [newKek()];
  const phases: Array<{ kill: KillPoint; phase: Phase; doneAtKill: number; rewrappedByRerun: number; auditedRewraps?: number }> = [];
  /** Jobs that completed: the rerun's, and the killed run's when it finished before the kill. */
  const completedJobs: string[] = [];

  const cliEnv = (active: string, previous?: string): Record<string, string> => ({
    DATA_DIR: dataDir,
    MASTER_KEY: active,
    ...(previous ? { MASTER_KEY_PREVIOUS: previous } : {}),
    KEK_ROTATION_BATCH_SIZE: String(BATCH_SIZE),
    KEK_ROTATION_LEASE_MS: String(LEASE_MS),
  });

  /** The running job's progress toward `toKeyId`, read straight from SQLite (WAL: never blocks the child). */
  function jobDone(db: Database.Database, toKeyId: string): number | null {
    const row = db.prepare('SELECT done FROM rotation_jobs WHERE running_lock = ? AND to_key_id = ?').get('kek', toKeyId) as { done: number } | undefined;
    return row?.done ?? null;
  }

  /** Spawns the rotation and SIGKILLs it at `kill`; settles once the child is gone. */
  async function rotateAndKill(env: Record<string, string>, toKeyId: string, kill: KillPoint): Promise<CliResult> {
    const run = spawnSfe(['kek', 'rotate', '--yes', '--json'], env);
    let exited = false;
    void run.done.then(() => (exited = true));
    if (kill.at === 'delay') {
      await Promise.race([sleep(kill.ms), run.done]);
    } else {
      let db: Database.Database | null = null;
      while (!exited) {
        try {
          db ??= new Database(path.join(dataDir, 'sfe.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
          if ((jobDone(db, toKeyId) ?? -1) >= kill.done) break;
        } catch {
          // The child may hold the file while it applies (no) migrations at start-up.
        }
        await sleep(3);
      }
      db?.close();
    }
    run.child.kill('SIGKILL');
    return run.done;
  }

  async function expectEveryFileServedBy(activeKek: string): Promise<void> {
    const t = await buildTestApp({ dataDir, env: { MASTER_KEY: activeKek } });
    try {
      for (const [fileId, digest] of expected) {
        const response = await t.app.inject({ method: 'GET', url: `/api/v1/files/${fileId}/content`, headers: owner.headers });
        expect(response.statusCode, `${fileId}: ${response.body.slice(0, 200)}`).toBe(200);
        expect(sha256(response.rawPayload), fileId).toBe(digest);
      }
    } finally {
      await t.close();
    }
  }

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const t = await buildTestApp({ dataDir, env: { MASTER_KEY: keys[0]! } });
    try {
      owner = await newUser(t.app, 'organization');
      for (let i = 0; i < FILES; i++) {
        // Mostly a few hundred bytes; every 100th spans several segments, so --deep reads a range.
        const data = randomBytes(i % 100 === 7 ? 200_000 + i : 1 + ((i * 37) % 1500));
        const file = await uploadFile(t.app, owner, { data, filename: `f${i}.bin` });
        expected.set(file.id, sha256(data));
      }
    } finally {
      await t.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `leaves 0 files unreadable and 0 DEKs under the old key, over ${RUNS} kill points`,
    async () => {
      const killPoint: fc.Arbitrary<KillPoint> = fc.oneof(
        // noBias: spread over the whole range rather than favour values near 0.
        fc.record({ at: fc.constant('delay' as const), ms: fc.noBias(fc.integer({ min: 0, max: MAX_DELAY_MS })) }),
        fc.record({ at: fc.constant('progress' as const), done: fc.noBias(fc.integer({ min: 0, max: FILES })) }),
      );

      await fc.assert(
        fc.asyncProperty(killPoint, async (kill) => {
          const from = keys.at(-1)!;
          const to = newKek();
          const [fromId, toId] = [idOf(from), idOf(to)];
          const env = cliEnv(to, from);

          const killed = await rotateAndKill(env, toId, kill);
          expect(killed.code === 0 || killed.signal === 'SIGKILL', `the killed run failed on its own: ${killed.stderr}`).toBe(true);

          // Between the kill and the rerun, with DEKs split over both keys: every one opens.
          const [midStatus, midVerify] = await Promise.all([sfe(['kek', 'status', '--json'], env), sfe(['kek', 'verify', '--json'], env)]);
          const verified = json<VerifyJson>(midVerify, 'verify after the kill');
          expect(verified).toEqual({ checked: FILES, ok: true, failed: [] });
          const rotation: Rotation | null = json<KekStatus>(midStatus, 'status after the kill').rotation;
          const phase: Phase =
            rotation?.toKeyId !== toId ? 'before-claim' : rotation.status === 'running' ? 'mid-job' : 'after-end';
          if (phase === 'after-end') expect(rotation?.status).toBe('completed');

          const rerun = json<RotateJson>(await sfe(['kek', 'rotate', '--yes', '--json'], env), 'the rerun');
          expect(rerun.resumed, `phase ${phase}`).toBe(phase === 'mid-job');
          if (phase === 'mid-job') expect(rerun.rotationId).toBe(rotation?.id);
          expect(rerun).toMatchObject({ failed: 0, after: { [toId]: FILES }, verify: { checked: FILES, ok: true } });
          // Counts are exact across the kill: the job counted every row it moved.
          if (phase !== 'after-end') expect(rerun.rewrapped).toBe(FILES);

          const status = json<KekStatus>(await sfe(['kek', 'status', '--json'], env), 'status after the rerun');
          expect(status.activeKeyId).toBe(toId);
          expect(status.keys.find((k) => k.keyId === fromId)?.wrappedDeks ?? 0).toBe(0);
          expect(status.keys.find((k) => k.keyId === toId)?.wrappedDeks).toBe(FILES);
          expect(status.keys.reduce((n, k) => n + k.wrappedDeks, 0)).toBe(FILES);
          expect(status.rotation).toMatchObject({ status: 'completed', toKeyId: toId, failed: 0 });

          // The old key is gone from the configuration: the new one alone serves every byte.
          await expectEveryFileServedBy(to);
          keys.push(to);
          completedJobs.push(rerun.rotationId, ...(phase === 'after-end' && rotation ? [rotation.id] : []));
          phases.push({ kill, phase, doneAtKill: phase === 'mid-job' ? (rotation?.done ?? 0) : phase === 'after-end' ? FILES : 0, rewrappedByRerun: rerun.rewrapped });
        }),
        {
          numRuns: RUNS,
          seed: 20261201,
          // Each run builds on the state the previous one left: shrinking would replay
          // kill points against a different state, so the first failure is reported as is.
          endOnFailure: true,
          // A kill during start-up, one in the middle of the job whatever the machine's
          // speed, and one most likely after the end; then random points.
          examples: [[{ at: 'delay', ms: 0 }], [{ at: 'progress', done: FILES / 2 }], [{ at: 'delay', ms: MAX_DELAY_MS }]],
        },
      );

      const last = keys.at(-1)!;
      const deep = json<VerifyJson>(await sfe(['kek', 'verify', '--deep', '--json'], cliEnv(last)), 'verify --deep with the last key only');
      expect(deep).toEqual({ checked: FILES, ok: true, failed: [] });

      // The audit trail, read through the app's own repositories.
      const container = await createContainer(
        { ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, MASTER_KEY: last }), kdf: TEST_KDF },
        { log: { error() {} } },
      );
      try {
        expect((await container.repositories.audit.verifyChain()).ok).toBe(true);
        const rotated = (await container.repositories.audit.list({ operation: 'kek_rotated' }, 10_000)).map((r) => ({
          success: r.success,
          details: JSON.parse(r.details) as { jobId: string; toKeyId: string },
        }));
        const rewrapped = (await container.repositories.audit.list({ operation: 'dek_rewrapped' }, 100_000)).map(
          (r) => JSON.parse(r.details) as { jobId: string; toKeyId: string; rewrapped: number; failed: number; throughFileId: string },
        );
        for (const to of keys.slice(1)) {
          const toId = idOf(to);
          expect(rotated.filter((r) => !r.success && r.details.toKeyId === toId)).toEqual([]);
          // dek_rewrapped is one summary per batch, never one per file. A batch and the job's
          // count commit together, and a batch committed but not yet audited when the run
          // was killed is audited by the rerun: none is lost. A kill in the one statement
          // between a record and the job forgetting the batch can repeat that record
          // (marked recovered): count each batch once.
          const seen = new Set<string>();
          const batches = rewrapped.filter((r) => {
            const key = `${r.jobId}:${r.throughFileId}`;
            if (r.toKeyId !== toId || seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          expect(batches.every((b) => b.rewrapped <= BATCH_SIZE && b.failed === 0)).toBe(true);
          expect(batches.length).toBeLessThanOrEqual(Math.ceil(FILES / BATCH_SIZE) + 1);
          const sum = batches.reduce((n, b) => n + b.rewrapped, 0);
          const run = phases[keys.indexOf(to) - 1];
          if (run) run.auditedRewraps = sum;
          expect(sum).toBe(FILES);
        }
        // Every rotation that completed has its kek_rotated record.
        const recorded = new Set(rotated.filter((r) => r.success).map((r) => r.details.jobId));
        for (const jobId of completedJobs) {
          expect((await container.repositories.kek.findJob(jobId))?.status).toBe('completed');
          expect(recorded.has(jobId), `kek_rotated for job ${jobId}`).toBe(true);
        }
      } finally {
        await container.close();
      }
      console.info('kill points:', JSON.stringify(phases));
    },
    // ~25 CLI processes: ~1.5 min on two quiet cores, close to 4 on a loaded shared machine.
    // A ceiling for a hung child, not a timing assertion.
    420_000,
  );
});
