import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { KekStatus, Rotation } from '@sfe/contract';
import { wrapDek, type KekRing } from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { AppError, conflict, fail, kekUnavailable, notFound } from '../../lib/errors.ts';
import type { BlobStore } from '../../stores/blobstore/index.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { AuditDetails } from '../audit/audit.operations.ts';
import { dekAssociatedData, unwrapFileDek } from '../files/files.context.ts';
import { rewrapTotpSecrets } from './kek.totp.ts';
import type { KekRepository, Rewrap, RotationJobRow, WrappedDekRow } from './kek.repository.ts';
import { unwrapFailureReason, verifyDeks, type VerifyFailureReason, type VerifyReport } from './kek.verify.ts';

export interface KekServiceDeps {
  kek: KekRepository;
  blobStore: BlobStore;
  kekRing: () => KekRing;
  audit: AuditLog;
  allowLegacyCiphers: boolean;
  /** Rows re-wrapped per statement (and per dek_rewrapped audit record). */
  batchSize: number;
  /** How long a rotation's claim holds without progress; a rerun after a crash waits this long at most. */
  leaseMs: number;
}

export interface RotationReport {
  rotation: Rotation;
  rewrapped: number;
  failed: number;
  before: Record<string, number>;
  after: Record<string, number>;
  durationMs: number;
  verify: { checked: number; ok: boolean };
  resumed: boolean;
}

export interface RotationProgress {
  done: number;
  total: number;
}

export const toRotationDto = (job: RotationJobRow): Rotation => ({
  id: job.id,
  status: job.status,
  total: job.total,
  done: Math.min(job.done, job.total),
  rewrapped: job.rewrapped,
  failed: job.failed,
  toKeyId: job.toKeyId,
  startedAt: job.startedAt?.toISOString() ?? null,
  finishedAt: job.finishedAt?.toISOString() ?? null,
});

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * The master key lifecycle, in Vault transit's words: `rotate` makes the configured
 * MASTER_KEY the latest version (done by the operator's restart), `rewrap` moves every
 * DEK to it in resumable batches, and a key id may be retired only when it wraps 0.
 */
export function createKekService(deps: KekServiceDeps) {
  const { kek, audit } = deps;

  /** Of these per-key-id counts, the key ids the configured ring lacks. */
  const unconfigured = (counts: Record<string, number>, ring: KekRing) =>
    Object.fromEntries(Object.entries(counts).filter(([keyId]) => !ring.has(keyId)));

  // Null until first counted; once every key id is configured it stays so (new values
  // are only ever wrapped under the active key, and the ring changes only by restart).
  let missingCache: Record<string, number> | null = null;

  /** Key ids that wrap live values but are not in the configured ring, with their counts. */
  async function missingKeyIds(): Promise<Record<string, number>> {
    missingCache = unconfigured(await kek.countByKeyId(), deps.kekRing());
    return missingCache;
  }

  /** KEK_UNAVAILABLE while a key id that wraps data is not configured. */
  async function assertReady(): Promise<void> {
    const missing = missingCache === null || Object.keys(missingCache).length > 0 ? await missingKeyIds() : missingCache;
    if (Object.keys(missing).length > 0) throw kekUnavailable();
  }

  async function status(): Promise<KekStatus> {
    const ring = deps.kekRing();
    const counts = await kek.countByKeyId();
    const ids = [ring.activeKeyId, ...ring.keyIds().filter((id) => id !== ring.activeKeyId)];
    for (const id of Object.keys(counts)) if (!ids.includes(id)) ids.push(id);
    const job = await kek.latestJob();
    return {
      activeKeyId: ring.activeKeyId,
      keys: ids.map((keyId) => ({
        keyId,
        wrappedDeks: counts[keyId] ?? 0,
        active: keyId === ring.activeKeyId,
        configured: ring.has(keyId),
      })),
      rotation: job ? toRotationDto(job) : null,
    };
  }

  /** The batch's dek_rewrapped record, then the job forgets the batch (see commitBatch). */
  async function recordBatch(jobId: string, owner: string, details: AuditDetails, actor: { userId: string | null; ipAddress: string | null }) {
    await audit.record({ operation: 'dek_rewrapped', success: details.failed === 0, ...actor, details });
    await kek.clearLastBatch(jobId, owner);
  }

  /** Re-wraps one batch; returns the rows' fate. Only the active key ever wraps. */
  function rewrapBatch(ring: KekRing, rows: WrappedDekRow[]) {
    const batch: Rewrap[] = [];
    const failures: Array<{ fileId: string; reason: VerifyFailureReason }> = [];
    for (const row of rows) {
      try {
        const dek = unwrapFileDek(ring, row.id, row.wrappedKey);
        try {
          batch.push({ id: row.id, expected: Buffer.from(row.wrappedKey), next: wrapDek(ring, dek, dekAssociatedData(row.id)) });
        } finally {
          dek.fill(0);
        }
      } catch (error) {
        failures.push({ fileId: row.id, reason: unwrapFailureReason(error) });
      }
    }
    return { batch, failures };
  }

  /**
   * Claims the rotation (a new job, or the unfinished one of a process that died) and
   * returns a function that works it to the end. Refuses while a key id that wraps data
   * is not configured: those values could not be re-wrapped, only reported as failed.
   */
  async function begin(actor: Actor | null): Promise<{ job: RotationJobRow; resumed: boolean; run: (options?: RunOptions) => Promise<RotationReport> }> {
    const ring = deps.kekRing();
    const before = await kek.countByKeyId();
    const missing = Object.keys(unconfigured(before, ring));
    if (missing.length > 0) {
      throw fail('KEK_UNAVAILABLE', `Key ids ${missing.join(', ')} still wrap data but are not configured; add them to MASTER_KEY_PREVIOUS first.`);
    }
    const owner = randomUUID();
    const now = new Date();
    const claimed = await kek.claim({
      owner,
      now,
      leaseUntil: new Date(now.getTime() + deps.leaseMs),
      toKeyId: ring.activeKeyId,
      total: sum(before) - (before[ring.activeKeyId] ?? 0),
      beforeCounts: JSON.stringify(before),
      createdById: actor?.id ?? null,
    });
    if (!claimed) throw conflict('A key rotation is already running.');
    if (claimed.job.lastBatch) {
      // The interrupted run committed a batch but died before auditing it.
      const pending = JSON.parse(claimed.job.lastBatch) as AuditDetails;
      await recordBatch(claimed.job.id, owner, { ...pending, recovered: true }, { userId: actor?.id ?? null, ipAddress: actor?.ip ?? null });
    }
    if (claimed.job.toKeyId !== ring.activeKeyId) {
      // The interrupted job re-wrapped to a key that is no longer the active one: its
      // cursor means nothing for the new key. End it and start over.
      await kek.finish(claimed.job.id, owner, { status: 'failed', error: 'superseded: the active key changed before it finished', now });
      return begin(actor);
    }
    return { ...claimed, run: (options = {}) => run(claimed.job, owner, claimed.resumed, actor, options) };
  }

  interface RunOptions {
    onProgress?: (progress: RotationProgress) => void;
    signal?: AbortSignal;
  }

  async function run(job: RotationJobRow, owner: string, resumed: boolean, actor: Actor | null, options: RunOptions): Promise<RotationReport> {
    const ring = deps.kekRing();
    const actorFields = { userId: actor?.id ?? null, ipAddress: actor?.ip ?? null };
    let cursor = job.cursor;
    let done = job.done;
    try {
      for (;;) {
        if (options.signal?.aborted) {
          await kek.release(job.id, owner);
          throw fail('SERVICE_UNAVAILABLE', 'The rotation was interrupted; run it again to continue.');
        }
        const rows = await kek.page({ notUnder: ring.activeKeyId }, cursor, deps.batchSize);
        const last = rows.at(-1);
        if (!last) break;
        const { batch, failures } = rewrapBatch(ring, rows);
        const details = (rewrapped: number): AuditDetails => ({
          jobId: job.id,
          toKeyId: ring.activeKeyId,
          rewrapped,
          failed: failures.length,
          skipped: batch.length - rewrapped,
          throughFileId: last.id,
          ...(failures.length > 0 ? { failedFileIds: failures.map((f) => f.fileId).join(',') } : {}),
        });
        const step = { cursor: last.id, done: rows.length, failed: failures.length, leaseUntil: new Date(Date.now() + deps.leaseMs), details };
        const committed = await kek.commitBatch({ id: job.id, owner }, batch, ring.activeKeyId, step);
        if (!committed.owned) throw conflict('Another process took over this rotation.');
        cursor = last.id;
        done += rows.length;
        await recordBatch(job.id, owner, details(committed.rewrapped), actorFields);
        options.onProgress?.({ done: Math.min(done, job.total), total: job.total });
        // SQLite answers synchronously, so without this the whole rotation would run in
        // one turn of the event loop and every request would wait for its end.
        await nextTurn();
      }
      // Then the users' TOTP secrets, the other KEK-wrapped values.
      await rewrapTotpSecrets({
        kek,
        ring,
        job,
        owner,
        batchSize: deps.batchSize,
        leaseMs: deps.leaseMs,
        signal: options.signal,
        record: (details) => recordBatch(job.id, owner, details, actorFields),
        onProgress: (rows) => {
          done += rows;
          options.onProgress?.({ done: Math.min(done, job.total), total: job.total });
        },
      });
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'SERVICE_UNAVAILABLE')) {
        await kek.finish(job.id, owner, { status: 'failed', error: 'the rotation stopped on an error', now: new Date() });
        await audit.record({ operation: 'kek_rotated', success: false, ...actorFields, details: { jobId: job.id, toKeyId: ring.activeKeyId } });
      }
      throw error;
    }

    const after = await kek.countByKeyId();
    const verify = await verifyDeks({ kek, blobStore: deps.blobStore, ring, allowLegacyCiphers: deps.allowLegacyCiphers, deep: false });
    const counted = (await kek.findJob(job.id)) ?? job;
    const failed = counted.failed > 0 || !verify.ok;
    const now = new Date();
    const before = JSON.parse(job.beforeCounts) as Record<string, number>;
    const durationMs = now.getTime() - (job.startedAt ?? job.createdAt).getTime();
    // The report first, then the job ends: a kill in between leaves the job running, and
    // the rerun reports again (marked resumed) rather than never.
    await audit.record({
      operation: 'kek_rotated',
      success: !failed,
      ...actorFields,
      details: {
        jobId: job.id,
        toKeyId: ring.activeKeyId,
        before: JSON.stringify(before),
        after: JSON.stringify(after),
        rewrapped: counted.rewrapped,
        failed: counted.failed,
        durationMs,
        verifyOk: verify.ok,
        verifyChecked: verify.checked,
        resumed,
      },
    });
    await kek.finish(job.id, owner, { status: failed ? 'failed' : 'completed', error: failed ? 'some values could not be re-wrapped' : null, now });
    const ended = (await kek.findJob(job.id)) ?? job;
    return {
      rotation: toRotationDto(ended),
      rewrapped: ended.rewrapped,
      failed: ended.failed,
      before,
      after,
      durationMs,
      verify: { checked: verify.checked, ok: verify.ok },
      resumed,
    };
  }

  /** A rotation that was asked for and refused is part of the story too. */
  async function recordRefusal(actor: Actor | null, error: unknown): Promise<void> {
    if (!(error instanceof AppError)) return;
    await audit.record({
      operation: 'kek_rotated',
      success: false,
      userId: actor?.id ?? null,
      ipAddress: actor?.ip ?? null,
      details: { refused: error.code },
    });
  }

  return {
    status,
    missingKeyIds,
    recordRefusal,
    assertReady,
    begin,

    async rotation(id: string): Promise<Rotation> {
      const job = await kek.findJob(id);
      if (!job) throw notFound('Rotation');
      return toRotationDto(job);
    },

    verify: (options: { deep: boolean; onProgress?: (progress: RotationProgress) => void }): Promise<VerifyReport> =>
      verifyDeks({ kek, blobStore: deps.blobStore, ring: deps.kekRing(), allowLegacyCiphers: deps.allowLegacyCiphers, ...options }),
  };
}
export type KekService = ReturnType<typeof createKekService>;
