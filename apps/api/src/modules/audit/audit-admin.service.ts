import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { AuditEntry, AuditList, AuditListQuery, AuditReport, AuditVerifyResult } from '@sfe/contract';
import { checkpointMessage, type AuditSigner } from '../../lib/audit-signer.ts';
import type { Actor } from '../../lib/actor.ts';
import { invalidField } from '../../lib/errors.ts';
import type { AuditFilter, AuditRecord, AuditRepository } from './audit.repository.ts';
import type { AuditService } from './audit.service.ts';

export interface AuditAdminDeps {
  auditRepository: AuditRepository;
  audit: AuditService;
  signer: AuditSigner;
}

const BATCH = 1000;

function toEntry(r: AuditRecord): AuditEntry {
  let details: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.details);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    // A record is shown even if its details were damaged; verify reports the damage.
  }
  return {
    id: r.id,
    userId: r.userId,
    operation: r.operation,
    details,
    success: r.success,
    timestamp: r.timestamp.toISOString(),
    ipAddress: r.ipAddress,
  };
}

const periodOf = (days: number) => {
  const to = new Date();
  return { from: new Date(to.getTime() - days * 86_400_000), to };
};

/** byDay is only computed for periods a chart of days can show. */
const MAX_DAYS_BY_DAY = 92;
const DAY_MS = 86_400_000;

/** UTC calendar days covering [from, to], the first and last clipped to the period. */
function daysOf(from: Date, to: Date): Array<{ day: string; from: Date; to: Date }> {
  const days: Array<{ day: string; from: Date; to: Date }> = [];
  let start = from.getTime();
  while (start <= to.getTime()) {
    const end = Math.min(Math.floor(start / DAY_MS) * DAY_MS + DAY_MS, to.getTime() + 1);
    days.push({ day: new Date(start).toISOString().slice(0, 10), from: new Date(start), to: new Date(end) });
    start = end;
  }
  return days;
}

export function createAuditAdminService(deps: AuditAdminDeps) {
  const repo = deps.auditRepository;

  /**
   * Walks the chain (every link and hash, no gaps in seq) and checks every checkpoint:
   * its signature, and that the record it names is still there with the signed hash.
   * So an edited record, a record removed from the middle and a tail removed back past
   * a checkpoint are all found. After a purge the first record must hang from the
   * signed purge anchor.
   */
  async function verifyAll(): Promise<AuditVerifyResult> {
    const checkpoints = await repo.checkpoints();
    for (const c of checkpoints) {
      if (c.keyId !== deps.signer.keyId || !deps.signer.verify(checkpointMessage(c), c.signature)) {
        return { ok: false, checked: 0, firstBrokenId: c.id, reason: 'checkpoint_invalid' };
      }
    }
    const anchor = checkpoints.filter((c) => c.reason === 'purge').at(-1) ?? null;
    const expected = new Map<number, string[]>();
    for (const c of checkpoints) if (!anchor || c.seq > anchor.seq) expected.set(c.seq, [...(expected.get(c.seq) ?? []), c.hash]);
    return repo.verifyChain({ ...(anchor ? { anchor } : {}), checkpoints: expected });
  }

  return {
    async list(query: AuditListQuery): Promise<AuditList> {
      const filter = filterOf(query);
      let before: number | undefined;
      if (query.cursor !== undefined) {
        if (!/^\d{1,15}$/.test(query.cursor)) throw invalidField('querystring.cursor', 'is not a cursor of this list');
        before = Number(query.cursor);
      }
      const page = await repo.page(filter, query.limit ?? 50, before);
      return { items: page.rows.map(toEntry), nextCursor: page.nextCursor };
    },

    async report(days: number): Promise<AuditReport> {
      const { from, to } = periodOf(days);
      const groups = await repo.summary(from, to);
      const byOperation: AuditReport['byOperation'] = {};
      let total = 0;
      let failed = 0;
      for (const g of groups) {
        const entry = (byOperation[g.operation] ??= { total: 0, failed: 0 });
        entry.total += g.count;
        total += g.count;
        if (!g.success) {
          entry.failed += g.count;
          failed += g.count;
        }
      }
      const report: AuditReport = { from: from.toISOString(), to: to.toISOString(), total, failed, byOperation };
      if (days <= MAX_DAYS_BY_DAY) {
        const periods = daysOf(from, to);
        const counts = await repo.countsIn(periods);
        report.byDay = periods.map((p, i) => ({ day: p.day, total: counts[i]?.total ?? 0, failed: counts[i]?.failed ?? 0 }));
      }
      return report;
    },

    /** The period's records as CSV, streamed a batch at a time (never the whole log in memory). */
    reportCsv(days: number): Readable {
      const { from, to } = periodOf(days);
      async function* rows() {
        let afterSeq = 0;
        for (;;) {
          const batch = await repo.batchAfter(afterSeq, BATCH, { from, to });
          for (const r of batch) {
            const e = toEntry(r);
            yield [e.id, e.timestamp, e.operation, e.success, e.userId ?? '', e.ipAddress ?? '', JSON.stringify(e.details)];
          }
          const lastRecord = batch.at(-1);
          if (!lastRecord || batch.length < BATCH) return;
          afterSeq = lastRecord.seq;
        }
      }
      const csv = stringify({
        header: true,
        columns: ['id', 'timestamp', 'operation', 'success', 'userId', 'ipAddress', 'details'],
        cast: { boolean: (value) => (value ? 'true' : 'false') },
      });
      return Readable.from(rows()).pipe(csv);
    },

    async verify(actor: Actor | null): Promise<AuditVerifyResult> {
      const result = await verifyAll();
      await deps.audit.record({
        operation: 'audit_verified',
        success: result.ok,
        userId: actor?.id ?? null,
        ipAddress: actor?.ip ?? null,
        details: { checked: result.checked, firstBrokenId: result.firstBrokenId, reason: result.reason },
      });
      return result;
    },

    publicKey: () => ({ algorithm: 'Ed25519' as const, keyId: deps.signer.keyId, publicKeyPem: deps.signer.publicKeyPem }),
  };
}
export type AuditAdminService = ReturnType<typeof createAuditAdminService>;

function filterOf(query: AuditListQuery): AuditFilter {
  return {
    ...(query.from ? { from: new Date(query.from) } : {}),
    ...(query.to ? { to: new Date(query.to) } : {}),
    ...(query.operation ? { operation: query.operation } : {}),
    ...(query.userId ? { userId: query.userId } : {}),
    ...(query.success !== undefined ? { success: query.success } : {}),
  };
}
