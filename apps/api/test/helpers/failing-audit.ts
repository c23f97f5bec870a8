import path from 'node:path';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import type { ContainerOverrides } from '../../src/container.ts';
import { createAuditRepository, type AuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { buildTestApp, makeDataDir, type TestApp } from './app.ts';

export interface FailingAuditApp {
  t: TestApp;
  prisma: PrismaClient;
  /** Appends of these operations fail, as a full or broken audit store would. */
  failing: Set<string>;
  /** Runs `work` while `operations` cannot be recorded. */
  withFailing<T>(operations: string[], work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The real app on the real database, except that the audit repository refuses the
 * chosen operations (the one injected part of the fail-closed tests).
 */
export async function buildFailingAuditApp(overrides: Omit<ContainerOverrides, 'auditRepository'> = {}): Promise<FailingAuditApp> {
  const dataDir = await makeDataDir();
  const prisma = createPrismaClient(`file:${path.join(dataDir, 'sfe.db')}`);
  const real = createAuditRepository(prisma);
  const failing = new Set<string>();
  const auditRepository: AuditRepository = {
    ...real,
    append: (event, id) => (failing.has(event.operation) ? Promise.reject(new Error('audit store refused the write')) : real.append(event, id)),
  };
  const t = await buildTestApp({ dataDir, overrides: { ...overrides, auditRepository } });
  return {
    t,
    prisma,
    failing,
    async withFailing(operations, work) {
      for (const operation of operations) failing.add(operation);
      try {
        return await work();
      } finally {
        failing.clear();
      }
    },
    async close() {
      await prisma.$disconnect();
      await t.cleanup();
    },
  };
}
