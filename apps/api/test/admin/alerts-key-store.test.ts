import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertList } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, newAdmin, openDb } from '../helpers/admin.ts';
import { downloadRaw, expectProblem, grantedPair, PASSWORD } from '../helpers/fixtures.ts';
import { startJongodb, withDatabase, type Jongodb } from '../helpers/jongodb.ts';

describe('alert rule key_store_unavailable', () => {
  let mongo: Jongodb;
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;

  beforeAll(async () => {
    mongo = await startJongodb();
    t = await buildTestApp({
      env: { MONGODB_URI: withDatabase(mongo.uri, `sfe_${randomBytes(4).toString('hex')}`), KEY_STORE_TIMEOUT_MS: '500' },
    });
    prisma = openDb(t);
    admin = await newAdmin(t, prisma);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.close();
    await mongo.stop();
    await t.cleanup();
  });

  it('is raised once per window when requests fail on the key store, and counts the repeats', async () => {
    const { con, request } = await grantedPair(t.app);
    await mongo.stop();
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 503, 'KEY_STORE_UNAVAILABLE');
    expectProblem(await downloadRaw(t.app, con, request.id, PASSWORD), 503, 'KEY_STORE_UNAVAILABLE');
    const alerts = (await adminCall(t.app, admin, 'GET', '/alerts')).json<AlertList>().items.filter((a) => a.rule === 'key_store_unavailable');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical', count: 2, subjectUserId: null });
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/sfe_key_store_errors_total [2-9]/);
  });
});
