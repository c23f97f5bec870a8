import { randomUUID } from 'node:crypto';
import type { AuditRepository } from './audit.repository.ts';
import type { AuditEvent } from './audit.operations.ts';

/** The one logger method this service needs (pino's signature). */
export interface ErrorLogger {
  error(context: object, message: string): void;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/**
 * Every cryptographic and access operation, success or failure, writes one record.
 * A failed audit write is logged loudly but does not turn a completed operation into
 * an error for the client (the operation already happened; lying about it is worse).
 */
export function createAuditService(deps: {
  auditRepository: AuditRepository;
  log: ErrorLogger;
  onRecord?: (event: AuditEvent) => void;
}): AuditLog {
  return {
    async record(event) {
      deps.onRecord?.(event);
      try {
        await deps.auditRepository.append(event, randomUUID());
      } catch (error) {
        deps.log.error({ err: error, operation: event.operation }, 'audit record could not be written');
      }
    },
  };
}
