import type { Alert, AlertList, AlertRule, AlertSeverity, AlertsQuery } from '@sfe/contract';
import type { AlertThresholds } from '../../config.ts';
import type { Actor } from '../../lib/actor.ts';
import { invalidField, notFound } from '../../lib/errors.ts';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import type { AuditEvent } from '../audit/audit.operations.ts';
import type { AuditRepository } from '../audit/audit.repository.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { AlertRow, AlertsRepository } from './alerts.repository.ts';
import { notices } from '../notifications/notifications.messages.ts';

export interface AlertsServiceDeps {
  alerts: AlertsRepository;
  audit: AuditLog;
  auditRepository: Pick<AuditRepository, 'countSince'>;
  accessRequests: Pick<AccessRequestsRepository, 'suspendApprovedOf'>;
  thresholds: AlertThresholds;
  /** Told of each newly raised alert (metrics, the webhook); must not throw. */
  onRaised?: (alert: Alert) => void;
  log: { error(context: object, message: string): void };
}

const MINUTE = 60_000;
/** How long one alert of a rule without its own window collects repeats. */
const DEFAULT_WINDOW_MINUTES = 60;

export function toAlertDto(row: AlertRow): Alert {
  return {
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    subjectUserId: row.subjectUserId,
    message: row.message,
    count: row.count,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    acknowledged: row.acknowledgedAt !== null,
    acknowledgedBy: row.acknowledgedById,
  };
}

/**
 * The alert rules of API.md, evaluated as each triggering event is recorded (audit
 * listener, response hook, key-store errors), never by scanning the log. Counters live
 * in the database, so every replica counts against the same thresholds.
 */
export function createAlertsService(deps: AlertsServiceDeps) {
  const t = deps.thresholds;

  const windowOf = (now: number, minutes: number) => {
    const ms = minutes * MINUTE;
    const start = Math.floor(now / ms) * ms;
    return { start, end: start + ms };
  };

  /** Counts an event for a subject; returns the count so far in the current window. */
  async function count(name: string, subject: string, minutes: number, now: number): Promise<number> {
    const w = windowOf(now, minutes);
    return deps.alerts.countEvent(`alert:${name}:${subject}:${w.start}`, w.end, now);
  }

  async function raise(
    rule: AlertRule,
    severity: AlertSeverity,
    subject: { key: string; userId: string | null },
    message: string,
    windowMinutes: number,
    details: Record<string, string | number | boolean | null> = {},
  ): Promise<{ alert: Alert; created: boolean }> {
    const now = new Date();
    const { row, created } = await deps.alerts.raise(
      {
        rule,
        severity,
        subjectUserId: subject.userId,
        subjectKey: subject.key,
        windowStart: new Date(windowOf(now.getTime(), windowMinutes).start),
        message,
        details,
      },
      now,
      (created) => [notices.alert(created)],
    );
    const alert = toAlertDto(row);
    if (created) {
      await deps.audit.record({
        operation: 'alert_raised',
        success: true,
        userId: subject.userId,
        details: { alertId: row.id, rule, severity, subject: subject.key },
      });
      deps.onRaised?.(alert);
    }
    return { alert, created };
  }

  async function failedLogin(event: AuditEvent, now: number) {
    if (event.userId) {
      const n = await count('failed_logins', `user:${event.userId}`, t.failedLoginsWindowMinutes, now);
      if (n >= t.failedLoginsPerAccount) {
        await raise('failed_logins', 'warning', { key: `user:${event.userId}`, userId: event.userId }, `${n} failed sign-ins for one account within ${t.failedLoginsWindowMinutes} minutes.`, t.failedLoginsWindowMinutes);
      }
    }
    if (event.ipAddress) {
      const n = await count('failed_logins', `ip:${event.ipAddress}`, t.failedLoginsWindowMinutes, now);
      if (n >= t.failedLoginsPerIp) {
        await raise('failed_logins', 'warning', { key: `ip:${event.ipAddress}`, userId: null }, `${n} failed sign-ins from ${event.ipAddress} within ${t.failedLoginsWindowMinutes} minutes.`, t.failedLoginsWindowMinutes, { ip: event.ipAddress });
      }
    }
  }

  async function download(event: AuditEvent, now: number) {
    if (!event.userId) return;
    const n = await count('mass_download', event.userId, t.massDownloadWindowMinutes, now);
    if (n >= t.massDownloadCount) {
      await raise('mass_download', 'critical', { key: `user:${event.userId}`, userId: event.userId }, `${n} files decrypted by one account within ${t.massDownloadWindowMinutes} minutes.`, t.massDownloadWindowMinutes);
    }
  }

  /**
   * A consultant's grant unwraps in the current window against its own average per
   * window over the baseline days before it. Far above it (factor, and at least
   * minEvents): the consultant's open grants are suspended until their owners approve again.
   */
  async function unwrap(event: AuditEvent, now: number) {
    const userId = event.userId;
    if (!userId || event.details?.wrappedBy !== 'rsa-oaep-sha256') return;
    await newAddress(userId, event.ipAddress ?? null, now);
    const n = await count('unusual_access', userId, t.unusualAccessWindowMinutes, now);
    if (n < t.unusualAccessMinEvents) return;
    const w = windowOf(now, t.unusualAccessWindowMinutes);
    const baselineFrom = new Date(w.start - t.unusualAccessBaselineDays * 86_400_000);
    const before = await deps.auditRepository.countSince({ operation: 'key_unwrapped', userId, success: true }, baselineFrom, new Date(w.start));
    const windows = (t.unusualAccessBaselineDays * 24 * 60) / t.unusualAccessWindowMinutes;
    const baseline = before / windows;
    if (n <= t.unusualAccessFactor * baseline) return;
    const reason = `unusual access: ${n} unwraps in ${t.unusualAccessWindowMinutes} minutes against a baseline of ${baseline.toFixed(2)}`;
    const { created } = await raise('unusual_access', 'critical', { key: `user:${userId}`, userId }, `Consultant access far above its baseline (${n} unwraps in ${t.unusualAccessWindowMinutes} minutes); its open grants are suspended.`, t.unusualAccessWindowMinutes, { unwraps: n, baseline });
    if (!created) return;
    const suspended = await deps.accessRequests.suspendApprovedOf(userId, reason, new Date(), (grants) => grants.map((grant) => notices.suspended(grant)));
    for (const grant of suspended) {
      await deps.audit.record({ operation: 'access_suspended', success: true, userId, details: { requestId: grant.id, fileId: grant.fileId, ownerId: grant.ownerId, rule: 'unusual_access' } });
    }
  }

  /**
   * An unwrap from an address this consultant never unwrapped from within the baseline
   * days (while it did from others): a warning, nothing suspended, since people move.
   */
  async function newAddress(userId: string, ip: string | null, now: number) {
    if (!ip) return;
    const since = new Date(now - t.unusualAccessBaselineDays * 86_400_000);
    const where = { operation: 'key_unwrapped', userId, success: true };
    // The current unwrap is already recorded: "new" means it is the only one from this address.
    const fromHere = await deps.auditRepository.countSince({ ...where, ipAddress: ip }, since);
    if (fromHere !== 1) return;
    const everywhere = await deps.auditRepository.countSince(where, since);
    if (everywhere <= 1) return;
    await raise('unusual_access', 'warning', { key: `user:${userId}:ip:${ip}`, userId }, `Consultant unwrapped a grant from a new address (${ip}).`, t.unusualAccessWindowMinutes, { ip });
  }

  /** Runs a rule without ever failing the operation that triggered it. */
  async function guarded(name: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      deps.log.error({ err: error, rule: name }, 'alert rule could not be evaluated');
    }
  }

  return {
    /** Audit listener: the rules whose trigger is an audited event. */
    async onAudit(event: AuditEvent): Promise<void> {
      const now = Date.now();
      if (event.operation === 'login_failed') return guarded('failed_logins', () => failedLogin(event, now));
      if (event.operation === 'keypair_generated' && !event.success) {
        return guarded('keygen_failure', () =>
          raise('keygen_failure', 'critical', { key: 'keygen', userId: event.userId ?? null }, 'A key pair could not be generated.', DEFAULT_WINDOW_MINUTES),
        );
      }
      if (event.operation === 'file_decrypted' && event.success) return guarded('mass_download', () => download(event, now));
      if (event.operation === 'key_unwrapped' && event.success) return guarded('unusual_access', () => unwrap(event, now));
    },

    /** A 401, 403 or 404 answered to a client: repeated, it is probing. */
    async onDenied(ip: string, userId: string | null): Promise<void> {
      await guarded('unauthorized_access', async () => {
        const n = await count('unauthorized_access', ip, t.unauthorizedWindowMinutes, Date.now());
        if (n >= t.unauthorizedPerIp) {
          await raise('unauthorized_access', 'warning', { key: `ip:${ip}`, userId }, `${n} refused requests (401/403/404) from ${ip} within ${t.unauthorizedWindowMinutes} minutes.`, t.unauthorizedWindowMinutes, { ip });
        }
      });
    },

    async onKeyStoreUnavailable(): Promise<void> {
      await guarded('key_store_unavailable', () =>
        raise('key_store_unavailable', 'critical', { key: 'key-store', userId: null }, 'The key store did not answer; key operations are failing.', DEFAULT_WINDOW_MINUTES),
      );
    },

    async list(_actor: Actor, query: AlertsQuery): Promise<AlertList> {
      if (query.cursor && !(await deps.alerts.exists(query.cursor))) throw invalidField('querystring.cursor', 'is not a cursor of this list');
      const page = await deps.alerts.list({
        limit: query.limit ?? 50,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.acknowledged !== undefined ? { acknowledged: query.acknowledged } : {}),
      });
      return { items: page.rows.map(toAlertDto), nextCursor: page.nextCursor };
    },

    async acknowledge(actor: Actor, id: string): Promise<Alert> {
      const row = await deps.alerts.findById(id);
      if (!row) throw notFound('Alert');
      // Acknowledging twice is answered like the first time; the first acknowledger is kept.
      await deps.alerts.acknowledge(id, actor.id, new Date());
      const updated = await deps.alerts.findById(id);
      if (!updated) throw notFound('Alert');
      return toAlertDto(updated);
    },
  };
}
export type AlertsService = ReturnType<typeof createAlertsService>;
