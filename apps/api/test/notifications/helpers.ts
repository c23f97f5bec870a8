import type { FastifyInstance } from 'fastify';
import type { Notification, NotificationList } from '@sfe/contract';
import type { Session } from '../helpers/app.ts';

export async function inbox(app: FastifyInstance, session: Session, query = ''): Promise<NotificationList> {
  const response = await app.inject({ method: 'GET', url: `/api/v1/notifications${query}`, headers: session.headers });
  if (response.statusCode !== 200) throw new Error(`inbox: ${response.statusCode} ${response.body}`);
  return response.json<NotificationList>();
}

export const kinds = (list: { items: Notification[] }) => list.items.map((n) => n.kind).sort();

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 8000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
