import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertList } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { createLimiter, type Limiter } from '../../src/lib/limiter.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, auditOf, newAdmin, openDb } from '../helpers/admin.ts';
import { bearer, expectProblem, freshIp, loginRaw, newUser, PASSWORD } from '../helpers/fixtures.ts';

/**
 * keygen_failure, scripted: the key generator breaks (the one injected part: a job
 * runner that fails, as a broken crypto provider or a dying worker would), sign-ups
 * and key rotations fail cleanly, each failure is on record, one alert is raised and
 * then de-duplicated.
 */
describe('keygen_failure alert', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;
  let broken = false;
  const real = createLimiter(1);
  const keygenLimiter: Limiter = {
    run: (job) => (broken ? Promise.reject(new Error('RSA key generation failed in the provider')) : real.run(job)),
  };

  beforeAll(async () => {
    t = await buildTestApp({ overrides: { keygenLimiter } });
    prisma = openDb(t);
    admin = await newAdmin(t, prisma);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('fails sign-ups and rotations without a trace of a half-made account, records each, raises one alert', async () => {
    const con = await newUser(t.app, 'consultant');
    const fingerprint = async () =>
      (await t.app.inject({ method: 'GET', url: '/api/v1/users/me/keys', headers: bearer(con.accessToken) })).json<{ fingerprint: string }>().fingerprint;
    const oldFingerprint = await fingerprint();
    const before = await prisma.user.count();
    broken = true;
    try {
      for (const name of ['kg-one', 'kg-two']) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          remoteAddress: freshIp(),
          payload: { username: name, password: PASSWORD, role: 'consultant' },
        });
        const problem = expectProblem(response, 500, 'INTERNAL_ERROR');
        expect(JSON.stringify(problem)).not.toMatch(/provider|RSA/);
      }
      const rotate = await t.app.inject({ method: 'POST', url: '/api/v1/users/me/keys/rotate', headers: bearer(con.accessToken), payload: { password: PASSWORD } });
      expect(rotate.statusCode).toBe(500);
    } finally {
      broken = false;
    }
    expect(await prisma.user.count()).toBe(before);
    // The consultant's old key still works.
    expect((await loginRaw(t.app, con.username, PASSWORD)).statusCode).toBe(200);
    expect(await fingerprint()).toBe(oldFingerprint);

    const failures = (await auditOf(prisma, 'keypair_generated')).filter((r) => !r.success);
    expect(failures).toHaveLength(3);
    expect(failures.filter((r) => r.details.purpose === 'rotation')).toMatchObject([{ userId: con.id }]);

    const alerts = (await adminCall(t.app, admin, 'GET', '/alerts?limit=200')).json<AlertList>().items.filter((a) => a.rule === 'keygen_failure');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical', count: 3, acknowledged: false });
    expect((await auditOf(prisma, 'alert_raised')).filter((r) => r.details.rule === 'keygen_failure')).toHaveLength(1);

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/sfe_alerts_raised_total\{rule="keygen_failure"\} 1/);
  });
});
