import { randomUUID } from 'node:crypto';
import type { AuditPurgeResult } from '@sfe/contract';
import type { RetentionPolicy } from '../../config.ts';
import { checkpointMessage, type AuditSigner } from '../../lib/audit-signer.ts';
import type { Actor } from '../../lib/actor.ts';
import { conflict } from '../../lib/errors.ts';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import type { AuditRepository } from '../audit/audit.repository.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { FilesRepository } from '../files/files.repository.ts';
import type { LeasesRepository } from './leases.repository.ts';

export interface RetentionServiceDeps {
  policy: RetentionPolicy;
  auditRepository: Pick<AuditRepository, 'lastBefore' | 'countUpTo' | 'purgeUpTo'>;
  accessRequests: Pick<AccessRequestsRepository, 'countClosedBefore' | 'deleteClosedBefore'>;
  files: Pick<FilesRepository, 'countTombstonesBefore' | 'deleteTombstonesBefore'>;
  leases: LeasesRepository;
  audit: AuditLog;
  signer: AuditSigner;
}

const LEASE = 'retention-purge';
const DAY = 86_400_000;

/**
 * Retention: audit records, closed grants and shredded-file tombstones past their
 * period are removed, one purge at a time across every process (a lease row). Removing
 * the oldest audit records re-anchors the chain: a signed "purge" checkpoint names the
 * last removed record, and verify starts from it, so the chain stays provable.
 */
export function createRetentionService(deps: RetentionServiceDeps) {
  const holder = randomUUID();

  async function run(actor: Actor | null, dryRun: boolean, now = new Date()): Promise<AuditPurgeResult> {
    const auditCutoff = new Date(now.getTime() - deps.policy.auditDays * DAY);
    const grantsCutoff = new Date(now.getTime() - deps.policy.closedGrantsDays * DAY);
    const tombstoneCutoff = new Date(now.getTime() - deps.policy.tombstoneDays * DAY);
    const last = await deps.auditRepository.lastBefore(auditCutoff);
    if (dryRun) {
      return {
        dryRun: true,
        auditRecords: last ? await deps.auditRepository.countUpTo(last.seq) : 0,
        closedGrants: await deps.accessRequests.countClosedBefore(grantsCutoff),
        tombstones: await deps.files.countTombstonesBefore(tombstoneCutoff),
      };
    }
    let auditRecords = 0;
    if (last) {
      const createdAt = new Date();
      const anchor = { seq: last.seq, hash: last.hash, createdAt, keyId: deps.signer.keyId, reason: 'purge' };
      auditRecords = await deps.auditRepository.purgeUpTo(last.seq, { ...anchor, signature: deps.signer.sign(checkpointMessage(anchor)) });
    }
    const closedGrants = await deps.accessRequests.deleteClosedBefore(grantsCutoff);
    const tombstones = await deps.files.deleteTombstonesBefore(tombstoneCutoff);
    await deps.audit.record({
      operation: 'audit_purged',
      success: true,
      userId: actor?.id ?? null,
      ipAddress: actor?.ip ?? null,
      details: { auditRecords, closedGrants, tombstones, auditCutoff: auditCutoff.toISOString(), anchoredAtSeq: last?.seq ?? null },
    });
    return { dryRun: false, auditRecords, closedGrants, tombstones };
  }

  return {
    /** One purge; refused while another process holds the lease. */
    async purge(actor: Actor | null, options: { dryRun: boolean; now?: Date }): Promise<AuditPurgeResult> {
      if (options.dryRun) return run(actor, true, options.now);
      if (!(await deps.leases.acquire(LEASE, holder, 10 * 60_000))) throw conflict('Another purge is running.');
      try {
        return await run(actor, false, options.now);
      } finally {
        await deps.leases.release(LEASE, holder);
      }
    },

    /** The scheduled run: quietly skipped when another replica has the lease. */
    async scheduled(): Promise<AuditPurgeResult | null> {
      if (!(await deps.leases.acquire(LEASE, holder, 10 * 60_000))) return null;
      try {
        return await run(null, false);
      } finally {
        await deps.leases.release(LEASE, holder);
      }
    },
  };
}
export type RetentionService = ReturnType<typeof createRetentionService>;
