import { randomUUID } from 'node:crypto';
import { checkpointMessage, type AuditSigner } from '../../lib/audit-signer.ts';
import { auditUnavailable } from '../../lib/errors.ts';
import type { AuditRepository, ChainHead, CheckpointRow } from './audit.repository.ts';
import { BEST_EFFORT_OPERATIONS, type AuditEvent } from './audit.operations.ts';

/** The one logger method this service needs (pino's signature). */
export interface ErrorLogger {
  error(context: object, message: string): void;
}

/** Told of every record once it is written (metrics, alert rules); never fails the operation. */
export type AuditListener = (event: AuditEvent) => void | Promise<void>;

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

export interface AuditService extends AuditLog {
  subscribe(listener: AuditListener): void;
  /** Signs and stores the current chain head (also used after a purge and by verify). */
  checkpoint(reason?: 'checkpoint' | 'purge'): Promise<CheckpointRow | null>;
}

export interface AuditServiceDeps {
  auditRepository: Pick<AuditRepository, 'append' | 'head' | 'latestCheckpoint' | 'saveCheckpoint'>;
  log: ErrorLogger;
  signer: AuditSigner;
  /** Sign the head after this many records ... */
  checkpointEvery: number;
  /** ... or once the last checkpoint is this many minutes old (0: by count only). */
  checkpointMinutes: number;
}

/**
 * Every cryptographic and access operation, success or failure, writes one record.
 * Fail closed: when the record of a successful sensitive operation cannot be written,
 * record() throws AUDIT_UNAVAILABLE, so the caller stops before releasing anything
 * (plaintext, keys, grants). Sign-in noise (BEST_EFFORT_OPERATIONS) and failure
 * records are logged and let through: refusing those would hide the failure itself.
 */
export function createAuditService(deps: AuditServiceDeps): AuditService {
  const listeners: AuditListener[] = [];
  let last: Pick<CheckpointRow, 'seq' | 'createdAt'> | null | undefined;

  async function sign(head: ChainHead, reason: 'checkpoint' | 'purge'): Promise<CheckpointRow> {
    const createdAt = new Date();
    const fields = { seq: head.seq, hash: head.hash, createdAt, keyId: deps.signer.keyId, reason };
    const row = await deps.auditRepository.saveCheckpoint({ ...fields, signature: deps.signer.sign(checkpointMessage(fields)) });
    last = row;
    return row;
  }

  async function maybeCheckpoint(head: ChainHead): Promise<void> {
    last ??= await deps.auditRepository.latestCheckpoint();
    const since = head.seq - (last?.seq ?? 0);
    const ageMs = last ? Date.now() - last.createdAt.getTime() : Number.POSITIVE_INFINITY;
    const byTime = deps.checkpointMinutes > 0 && since > 0 && ageMs >= deps.checkpointMinutes * 60_000;
    if (since >= deps.checkpointEvery || byTime) await sign(head, 'checkpoint');
  }

  return {
    subscribe(listener) {
      listeners.push(listener);
    },

    async checkpoint(reason = 'checkpoint') {
      const head = await deps.auditRepository.head();
      return head ? sign(head, reason) : null;
    },

    async record(event) {
      let head: ChainHead;
      try {
        head = await deps.auditRepository.append(event, randomUUID());
      } catch (error) {
        deps.log.error({ err: error, operation: event.operation }, 'audit record could not be written');
        if (event.success && !BEST_EFFORT_OPERATIONS.has(event.operation)) throw auditUnavailable();
        return;
      }
      try {
        await maybeCheckpoint(head);
      } catch (error) {
        // The record itself is written and chained; the next record tries the checkpoint again.
        last = undefined;
        deps.log.error({ err: error }, 'audit checkpoint could not be written');
      }
      for (const listener of listeners) {
        try {
          await listener(event);
        } catch (error) {
          deps.log.error({ err: error, operation: event.operation }, 'audit listener failed');
        }
      }
    },
  };
}
