import { createHmac } from 'node:crypto';
import type { Alert } from '@sfe/contract';

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Attempts in all (first try included). */
  attempts?: number;
  /** Delay before the first retry; doubled for each next one. */
  baseDelayMs?: number;
  timeoutMs?: number;
  log: { warn(context: object, message: string): void };
}

/**
 * The signature a receiver checks: HMAC-SHA256 with the shared secret over
 * `<timestamp>.<body>`, hex, sent as `x-sfe-signature: sha256=<hex>` next to
 * `x-sfe-timestamp` (Unix seconds), so a captured delivery cannot be replayed later
 * under a new timestamp.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Delivers each raised alert in the background with retries and exponential backoff;
 * never blocks or fails the request that raised it. The URL and secret are never logged.
 */
export function createAlertWebhook(options: WebhookOptions) {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pending = new Set<Promise<void>>();

  async function deliver(alert: Alert): Promise<void> {
    const body = JSON.stringify({ event: 'alert_raised', alert });
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-sfe-timestamp': timestamp,
            'x-sfe-signature': webhookSignature(options.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        if (response.ok) return;
        options.log.warn({ alertId: alert.id, status: response.status, attempt }, 'alert webhook refused the delivery');
      } catch {
        options.log.warn({ alertId: alert.id, attempt }, 'alert webhook could not be reached');
      }
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 1)));
    }
  }

  return {
    send(alert: Alert): void {
      const delivery = deliver(alert).finally(() => pending.delete(delivery));
      pending.add(delivery);
    },
    /** For shutdown and tests: waits for deliveries under way. */
    async drain(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
}
export type AlertWebhook = ReturnType<typeof createAlertWebhook>;
