import { randomBytes } from 'node:crypto';
import { createApiClient } from '@sfe/api-client';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { createAdmin } from './helpers/admin.ts';
import { signIn } from './helpers/browser.ts';
import { browserSuite } from './helpers/suite.ts';

// Admin > Users > Reset second factors, in the real browser against the real API (its
// own server: the sign-in budget per client is not shared with the other console tests).
const KEYS = { MASTER_KEY: randomBytes(32).toString('hex') };
const ADMIN = { username: 'desk.admin', password: 'help desk admin phrase' };
const LOST = { username: 'lost.phone.consultant', password: 'lost phone consultant phrase' };

const suite = browserSuite(KEYS, async (server) => {
  expect(await createAdmin(server.dataDir, ADMIN, KEYS)).toBe(0);
});

describe('admin console: second factors', () => {
  it('resets the second factors of a consultant who lost the phone: summary, sessions ended, password-only sign-in', async () => {
    const anonymous = createApiClient({ baseUrl: suite.server.baseUrl });
    await anonymous.auth.register({ ...LOST, role: 'consultant' });
    const lostToken = (await anonymous.auth.login(LOST)).accessToken;
    const asLost = createApiClient({ baseUrl: suite.server.baseUrl, getAccessToken: () => lostToken });
    const { secret } = await asLost.users.mfa.startTotp();
    const totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
    expect((await asLost.users.mfa.confirmTotp(totp.generate())).recoveryCodes).toHaveLength(10);
    expect(await anonymous.auth.signIn(LOST)).toMatchObject({ mfaRequired: true });

    const admin = await suite.person();
    await signIn(admin, ADMIN);
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('button', { name: `Reset the second factors of ${LOST.username}` }).click();
    const dialog = admin.getByRole('dialog', { name: `Reset the second factors of ${LOST.username}` });
    await dialog.getByRole('button', { name: 'Reset second factors' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toMatch(/Authenticator app removed.*0 passkeys removed.*10 recovery codes removed.*Every session ended/);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The old session is over, and the password alone signs in again.
    expect((await fetch(`${suite.server.baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${lostToken}` } })).status).toBe(401);
    expect(await anonymous.auth.signIn(LOST)).toHaveProperty('accessToken');
  });
});
