import type { TestProject } from 'vitest/node';
import { startPgCluster, type PgCluster } from '../../src/db/pg-cluster.ts';

/** One PostgreSQL server for the whole `api-pg` run; each DATA_DIR gets a database on it (database.ts). */
let cluster: PgCluster | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  cluster = await startPgCluster();
  project.provide('pgAdminUrl', cluster.adminUrl);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
