import { randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import type { LeasesRepository } from '../retention/leases.repository.ts';
import { notices } from './notifications.messages.ts';
import type { NotificationsRepository } from './notifications.repository.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_BACKOFF_MS = 6 * HOUR;
const BATCH = 50;

export interface ExpiryJobDeps {
  accessRequests: Pick<AccessRequestsRepository, 'expiringUnnotified' | 'markExpiringNotified' | 'lapsedApproved' | 'close'>;
  notifications: Pick<NotificationsRepository, 'purgeReadBefore'>;
  leases: LeasesRepository;
  readRetentionDays: number;
}

/**
 * Grants ending within 24 hours (told once: a compare-and-set on expiring_notified_at)
 * and grants past their expiry (closed as expired, told in the same transaction). One
 * replica at a time, by lease, like the retention purge.
 */
export function createExpiryJob(deps: ExpiryJobDeps) {
  const holder = randomUUID();
  const LEASE = 'notifications-expiry';
  return {
    async run(now = new Date()): Promise<{ expiring: number; expired: number } | null> {
      if (!(await deps.leases.acquire(LEASE, holder, 5 * 60_000, now))) return null;
      let expiring = 0;
      let expired = 0;
      try {
        for (const grant of await deps.accessRequests.expiringUnnotified(now, new Date(now.getTime() + DAY), BATCH)) {
          if (grant.expiresAt && (await deps.accessRequests.markExpiringNotified(grant.requestId, now, [notices.expiring(grant, grant.expiresAt)]))) expiring++;
        }
        for (const grant of await deps.accessRequests.lapsedApproved(now, BATCH)) {
          if (await deps.accessRequests.close(grant.requestId, ['approved'], 'expired', { now }, [notices.expired(grant)])) expired++;
        }
        await deps.notifications.purgeReadBefore(new Date(now.getTime() - deps.readRetentionDays * DAY));
      } finally {
        await deps.leases.release(LEASE, holder);
      }
      return { expiring, expired };
    },
  };
}

export interface EmailSenderDeps {
  notifications: Pick<NotificationsRepository, 'dueEmails' | 'markSent' | 'markAttemptFailed'>;
  leases: LeasesRepository;
  smtpUrl: string;
  from: string;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
}

/** An error as it may be kept: one line, no credentials of SMTP_URL, short. */
function describe(error: unknown, smtpUrl: string): string {
  let text = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
  const secret = (() => {
    try {
      return decodeURIComponent(new URL(smtpUrl).password);
    } catch {
      return '';
    }
  })();
  if (secret) text = text.split(secret).join('[redacted]');
  return text.replace(/[\r\n]+/g, ' ').slice(0, 300);
}

/**
 * The email outbox's one sender (a lease across replicas). Each due email is tried once
 * per run; a failure is recorded (attempts, last error) and retried after an exponential
 * backoff, and given up as failed after maxAttempts. Nothing here runs inside a request.
 */
export function createEmailSender(deps: EmailSenderDeps) {
  const holder = randomUUID();
  const LEASE = 'email-sender';
  const leaseMs = Math.max(60_000, deps.timeoutMs * 4);
  // Made at the first run: nodemailer's code is loaded only where email is configured.
  let transport: Transporter | undefined;
  const transportOf = async (): Promise<Transporter> => {
    if (transport) return transport;
    const { default: nodemailer } = await import('nodemailer');
    transport ??= nodemailer.createTransport({
      url: deps.smtpUrl,
      connectionTimeout: deps.timeoutMs,
      greetingTimeout: deps.timeoutMs,
      socketTimeout: deps.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return transport;
  };
  return {
    async run(now = new Date()): Promise<{ sent: number; failed: number } | null> {
      if (!(await deps.leases.acquire(LEASE, holder, leaseMs, now))) return null;
      let sent = 0;
      let failed = 0;
      try {
        for (const email of await deps.notifications.dueEmails(now, 20)) {
          // Renewed per email: a slow server never lets a second sender in meanwhile.
          if (!(await deps.leases.acquire(LEASE, holder, leaseMs))) break;
          try {
            await (await transportOf()).sendMail({ from: deps.from, to: email.toAddress, subject: email.subject, text: email.body });
            await deps.notifications.markSent(email.id, new Date());
            sent++;
          } catch (error) {
            const attempts = email.attempts + 1;
            const backoff = Math.min(deps.retryBaseMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
            await deps.notifications.markAttemptFailed(email.id, {
              attempts,
              lastError: describe(error, deps.smtpUrl),
              nextAttemptAt: new Date(Date.now() + backoff),
              failed: attempts >= deps.maxAttempts,
            });
            failed++;
          }
        }
      } finally {
        await deps.leases.release(LEASE, holder);
      }
      return { sent, failed };
    },
    close: () => transport?.close(),
  };
}
export type EmailSender = ReturnType<typeof createEmailSender>;
