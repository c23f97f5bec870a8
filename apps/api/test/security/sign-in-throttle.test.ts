import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { SIGN_IN_THROTTLE } from '../../src/modules/auth/password-attempts.ts';
import { delayAfter } from '../../src/modules/auth/sign-in-throttle.repository.ts';
import { buildTestApp, uniqueName, type TestApp } from '../helpers/app.ts';
import { PASSWORD, expectProblem, freshIp, loginRaw, registerUser } from '../helpers/fixtures.ts';

/**
 * Issue 9.6, second half: a stranger cannot keep an account locked. Failures from one
 * address for one username get a growing wait (429 RATE_LIMITED, Retry-After) once the
 * account budget's worth has run, while the account's own lock stays 15 minutes.
 * The streak lives in the database, so the test moves its clock by editing the row,
 * as the passing of time would.
 */
describe('sign-in throttle per client address and username', () => {
  let t: TestApp;
  let db: PrismaClient;
  beforeAll(async () => {
    t = await buildTestApp();
    db = createPrismaClient(t.config.databaseUrl);
  });
  afterAll(async () => {
    await db.$disconnect();
    await t.cleanup();
  });

  const keyOf = (ip: string, username: string) => `signin|${ip}|${username.toLowerCase()}`;
  /** Moves the streak's last failure `ms` into the past (its wait passes). */
  const age = async (ip: string, username: string, ms: number) => {
    const row = await db.rateLimit.findUniqueOrThrow({ where: { key: keyOf(ip, username) } });
    await db.rateLimit.update({ where: { key: row.key }, data: { resetAt: row.resetAt - BigInt(ms) } });
  };
  /** Ends the account's lock, as 15 minutes would. */
  const unlock = (userId: string) => db.user.update({ where: { id: userId }, data: { lockedUntil: new Date(Date.now() - 1000) } });

  it('the delay doubles from 2 s to a 15-minute ceiling, after the free failures', () => {
    const waits = Array.from({ length: 22 }, (_, failures) => delayAfter(failures, SIGN_IN_THROTTLE) / 1000);
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits.slice(10, 15)).toEqual([2, 4, 8, 16, 32]);
    expect(waits.at(-1)).toBe(900);
    // One address gets at most 8 checked guesses into any 15 minutes once its streak passed
    // the free ones, fewer than the 10 the account budget needs: it cannot lock again.
    let elapsed = 0;
    let guesses = 0;
    for (let failures = 10; elapsed <= 15 * 60_000; failures++) {
      guesses++;
      elapsed += delayAfter(failures, SIGN_IN_THROTTLE);
    }
    expect(guesses).toBeLessThan(10);
  });

  it('a stranger locks a victim once; the victim gets in after the lock, and the stranger cannot lock it again', async () => {
    const { user } = await registerUser(t.app, 'consultant');
    const stranger = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await loginRaw(t.app, user.username, `guess ${i}`, stranger)).statusCode);
    expect(statuses).toEqual(Array(10).fill(401));
    // The account is locked for everyone (bounded: 15 minutes)...
    const locked = await loginRaw(t.app, user.username, PASSWORD, freshIp());
    expectProblem(locked, 429, 'ACCOUNT_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // ...the stranger too, with the contract's answer: while the lock lasts it is ACCOUNT_LOCKED.
    const waiting = await loginRaw(t.app, user.username, 'guess 10', stranger);
    expectProblem(waiting, 429, 'ACCOUNT_LOCKED');
    expect(Number(waiting.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);

    // The lock ends. The stranger keeps guessing as fast as the throttle lets it.
    await unlock(user.id);
    const retryAfters: number[] = [];
    let checked = 0;
    for (let i = 0; i < 8; i++) {
      const wait = await loginRaw(t.app, user.username, `again ${i}`, stranger);
      if (wait.statusCode === 429) {
        expectProblem(wait, 429, 'RATE_LIMITED');
        retryAfters.push(Number(wait.headers['retry-after']));
        await age(stranger, user.username, Number(wait.headers['retry-after']) * 1000);
      }
      const guess = await loginRaw(t.app, user.username, `again ${i}`, stranger);
      expectProblem(guess, 401, 'INVALID_CREDENTIALS');
      checked++;
    }
    console.log(`sign-in throttle: ${checked} guesses after the lock, waits ${retryAfters.join(',')} s`);
    // Each wait is double the last: a growing Retry-After.
    expect(retryAfters.length).toBeGreaterThanOrEqual(7);
    for (let i = 1; i < retryAfters.length; i++) expect(retryAfters[i]).toBe(2 * retryAfters[i - 1]!);
    // The victim, from its own address, still gets in: 8 guesses did not fill the budget again
    // (in real time they would have taken 17 minutes; here the clock was moved only for the stranger).
    const victim = await loginRaw(t.app, user.username, PASSWORD, freshIp());
    expect(victim.statusCode, victim.body).toBe(200);
  });

  it('throttles one address for one username only: other addresses and other names are not slowed', async () => {
    const { user } = await registerUser(t.app, 'consultant');
    const other = await registerUser(t.app, 'consultant');
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await loginRaw(t.app, user.username, `guess ${i}`, ip);
    await unlock(user.id);
    expectProblem(await loginRaw(t.app, user.username, PASSWORD, ip), 429, 'RATE_LIMITED');
    // The same address, another account: not slowed.
    expect((await loginRaw(t.app, other.user.username, PASSWORD, ip)).statusCode).toBe(200);
    // The same account from another address: not slowed.
    expect((await loginRaw(t.app, user.username, PASSWORD, freshIp())).statusCode).toBe(200);
    // Case does not make another username.
    expectProblem(await loginRaw(t.app, user.username.toUpperCase(), PASSWORD, ip), 429, 'RATE_LIMITED');
  });

  it('the right password after the wait ends the streak; a locked answer costs the streak nothing', async () => {
    const { user } = await registerUser(t.app, 'consultant');
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await loginRaw(t.app, user.username, `guess ${i}`, ip);
    const before = await db.rateLimit.findUniqueOrThrow({ where: { key: keyOf(ip, user.username) } });
    expect(before.count).toBe(10);
    // While the account is locked, attempts from a fresh address answer ACCOUNT_LOCKED and
    // leave no streak behind (nothing was checked).
    const fresh = freshIp();
    expectProblem(await loginRaw(t.app, user.username, PASSWORD, fresh), 429, 'ACCOUNT_LOCKED');
    expect(await db.rateLimit.findUnique({ where: { key: keyOf(fresh, user.username) } })).toBeNull();
    await unlock(user.id);
    await age(ip, user.username, 2000);
    expect((await loginRaw(t.app, user.username, PASSWORD, ip)).statusCode).toBe(200);
    expect(await db.rateLimit.findUnique({ where: { key: keyOf(ip, user.username) } })).toBeNull();
  });

  it('an unknown username is throttled exactly like a real one (no enumeration through the throttle)', async () => {
    const { user } = await registerUser(t.app, 'consultant');
    const ghost = uniqueName('ghost');
    const ip = freshIp();
    for (let i = 1; i <= 12; i++) {
      const real = await loginRaw(t.app, user.username, 'wrong password guess', ip);
      const unknown = await loginRaw(t.app, ghost, 'wrong password guess', ip);
      expect([unknown.statusCode, unknown.json().code, unknown.headers['retry-after']], `attempt ${i}`).toEqual([
        real.statusCode,
        real.json().code,
        real.headers['retry-after'],
      ]);
    }
  });

  it('parallel guesses from one address cannot outrun the throttle', async () => {
    const ghost = uniqueName('burst');
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 30 }, () => loginRaw(t.app, ghost, 'wrong password guess', ip)));
    const checked = answers.filter((r) => r.statusCode === 401).length;
    const refused = answers.filter((r) => r.statusCode === 429).length;
    console.log(`parallel guesses from one address: ${checked} checked, ${refused} refused`);
    // The free 10, plus at most the one each wait lets through: never the whole burst.
    expect(checked).toBeLessThanOrEqual(11);
    expect(checked + refused).toBe(30);
    const row = await db.rateLimit.findUniqueOrThrow({ where: { key: keyOf(ip, ghost) } });
    expect(row.count).toBe(checked);
  });
});
