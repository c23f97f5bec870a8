import { setImmediate as nextTurn } from 'node:timers/promises';
import type { KekRing } from '@sfe/crypto';
import { conflict, fail } from '../../lib/errors.ts';
import type { AuditDetails } from '../audit/audit.operations.ts';
import { unwrapTotpSecret, wrapTotpSecret } from '../mfa/totp-secret.ts';
import type { KekRepository, RotationJobRow } from './kek.repository.ts';

/**
 * The rotation's second phase: every TOTP secret not under the active key is
 * re-wrapped to it, a batch per transaction that also counts it on the job (the same
 * guarantees as the files' phase: compare-and-set per row, the batch's audit details
 * kept on the job until its dek_rewrapped record is written). Selection is by key id,
 * so a rerun after a kill simply picks up what is left.
 */
export async function rewrapTotpSecrets(options: {
  kek: KekRepository;
  ring: KekRing;
  job: RotationJobRow;
  owner: string;
  batchSize: number;
  leaseMs: number;
  signal: AbortSignal | undefined;
  record: (details: AuditDetails) => Promise<void>;
  onProgress: (rows: number) => void;
}): Promise<void> {
  const { kek, ring, job } = options;
  let cursor: string | null = null;
  for (;;) {
    if (options.signal?.aborted) {
      await kek.release(job.id, options.owner);
      throw fail('SERVICE_UNAVAILABLE', 'The rotation was interrupted; run it again to continue.');
    }
    const rows = await kek.totpPage({ notUnder: ring.activeKeyId }, cursor, options.batchSize);
    const last = rows.at(-1);
    if (!last) return;
    const batch: Array<{ userId: string; expected: Buffer; next: Buffer }> = [];
    let failed = 0;
    for (const row of rows) {
      try {
        const secret = unwrapTotpSecret(ring, row.userId, row.wrappedSecret);
        try {
          batch.push({ userId: row.userId, expected: Buffer.from(row.wrappedSecret), next: wrapTotpSecret(ring, row.userId, secret).wrapped });
        } finally {
          secret.fill(0);
        }
      } catch {
        failed++;
      }
    }
    const details = (rewrapped: number): AuditDetails => ({
      jobId: job.id,
      toKeyId: ring.activeKeyId,
      kind: 'totp_secret',
      rewrapped,
      failed,
      skipped: batch.length - rewrapped,
    });
    const committed = await kek.commitTotpBatch({ id: job.id, owner: options.owner }, batch, ring.activeKeyId, {
      done: rows.length,
      failed,
      leaseUntil: new Date(Date.now() + options.leaseMs),
      details,
    });
    if (!committed.owned) throw conflict('Another process took over this rotation.');
    // Rows that failed keep their old key id: move past them, they would match again.
    cursor = last.userId;
    await options.record(details(committed.rewrapped));
    options.onProgress(rows.length);
    // Requests run between batches (SQLite answers synchronously; see kek.service.ts).
    await nextTurn();
  }
}
