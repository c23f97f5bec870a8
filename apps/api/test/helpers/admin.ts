import type { FastifyInstance } from 'fastify';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import type { TestApp } from './app.ts';
import { bearer, loginAs, newUser } from './fixtures.ts';
import type { Session } from './app.ts';

/**
 * Admins are made by the operator CLI, never over HTTP: a test registers a user and
 * promotes it in the database, as `sfe admin create` ends up doing.
 */
export async function newAdmin(t: TestApp, prisma: PrismaClient): Promise<Session> {
  const user = await newUser(t.app, 'consultant');
  await prisma.user.update({ where: { id: user.id }, data: { role: 'admin' } });
  return loginAs(t.app, user.username, user.password);
}

export const openDb = (t: TestApp) => createPrismaClient(t.config.databaseUrl);

export function adminCall(
  app: FastifyInstance,
  session: Session | null,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
) {
  return app.inject({
    method,
    url: `/api/v1/admin${url}`,
    headers: session ? bearer(session.accessToken) : {},
    ...(payload === undefined ? {} : { payload }),
  });
}

/** Audit records of one operation, oldest first, straight from the table. */
export async function auditOf(prisma: PrismaClient, operation: string) {
  const rows = await prisma.cryptoLog.findMany({ where: { operation }, orderBy: { seq: 'asc' } });
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}
