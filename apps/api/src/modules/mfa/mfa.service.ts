import { createHash, randomBytes } from 'node:crypto';
import type { MfaChallengeResponse, MfaMethod, MfaStatus, MfaVerifyBody, Passkey, RecoveryCodesResponse, Role, TotpEnrolment } from '@sfe/contract';
import { verifyPassword, type KekRing } from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { conflict, fail, invalidField, notFound } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';
import type { UserRow, UsersRepository } from '../users/users.repository.ts';
import type { MfaRepository, PasskeyRow } from './mfa.repository.ts';
import { newTotpSecret, totpEnrolment, totpStepOf } from './totp.ts';
import { unwrapTotpSecret, wrapTotpSecret } from './totp-secret.ts';
import type { Passkeys } from './webauthn.ts';

export interface MfaServiceDeps {
  mfa: MfaRepository;
  users: Pick<UsersRepository, 'findById' | 'bumpTokenVersion'>;
  kekRing: () => KekRing;
  assertKekReady: () => Promise<void>;
  audit: AuditLog;
  passwordAttempts: PasswordAttempts;
  kdfLimiter: Limiter;
  passkeys: Passkeys;
  requiredRoles: readonly Role[];
  issuer: string;
}

/** A pending sign-in (the mfaToken) and a passkey registration challenge both live this long. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
export const RECOVERY_CODE_COUNT = 10;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Recovery codes are compared by their normal form: case, spaces and dashes do not matter. */
const normalRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

/** 80 random bits as four groups of four base32 letters, e.g. K7QD-2MXA-94TB-HW3Z. */
function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const letters = [...bytes].map((byte) => BASE32[byte & 31]).join('');
  return letters.match(/.{4}/g)!.join('-');
}

const invalidCode = () => fail('INVALID_MFA_CODE', 'The second-factor code is not valid; sign in again if this keeps happening.');
const wrongPassword = () => fail('WRONG_PASSWORD', 'The password is not correct; nothing was changed.');

type SignInUser = Pick<UserRow, 'id' | 'tokenVersion'>;

/**
 * Second factors (docs/mfa.md): TOTP with recovery codes and passkeys. Enrolment is
 * the account's own; removing a factor needs the password; the second sign-in step
 * spends from the same failure budget as passwords. Every change is audited.
 */
export function createMfaService(deps: MfaServiceDeps) {
  const { mfa, audit } = deps;

  const presentPasskey = (row: PasskeyRow): Passkey => ({ id: row.id, name: row.name, createdAt: row.createdAt.toISOString() });

  async function methodsOf(userId: string): Promise<MfaMethod[]> {
    const [totp, passkeys, codes] = await Promise.all([mfa.findTotp(userId), mfa.passkeys(userId), mfa.recoveryCodesLeft(userId)]);
    const methods: MfaMethod[] = [];
    if (totp?.confirmedAt) methods.push('totp');
    if (passkeys.length > 0) methods.push('webauthn');
    if (codes > 0) methods.push('recovery_code');
    return methods;
  }

  async function checkPassword(actor: Actor, password: string): Promise<void> {
    const user = await deps.users.findById(actor.id);
    if (!user) throw notFound('User');
    const ok = await deps.passwordAttempts.check(actor.id, actor.ip, () => deps.kdfLimiter.run(() => verifyPassword(password, user.passwordHash)));
    if (!ok) throw wrongPassword();
  }

  /** Recovery codes go with the last factor: without one they would be a password alone. */
  async function dropCodesIfNoFactor(userId: string) {
    if (!(await mfa.hasFactor(userId))) await mfa.removeAll(userId);
  }

  async function pendingSignIn(mfaToken: string) {
    const row = await mfa.findSignIn(sha256(mfaToken));
    if (!row || row.purpose !== 'sign_in') return null;
    return row;
  }

  async function verifyFactor(user: UserRow, body: MfaVerifyBody, challenge: string | null, now: Date): Promise<{ ok: boolean; method: MfaMethod }> {
    if (body.code !== undefined) {
      const totp = await mfa.findTotp(user.id);
      if (!totp?.confirmedAt) return { ok: false, method: 'totp' };
      await deps.assertKekReady();
      const secret = unwrapTotpSecret(deps.kekRing(), user.id, totp.wrappedSecret);
      try {
        const step = totpStepOf(secret, body.code, now);
        return { ok: step !== null && (await mfa.useTotpStep(user.id, step)), method: 'totp' };
      } finally {
        secret.fill(0);
      }
    }
    if (body.recoveryCode !== undefined) {
      return { ok: await mfa.useRecoveryCode(user.id, sha256(normalRecoveryCode(body.recoveryCode)), now), method: 'recovery_code' };
    }
    const response = body.webauthn!;
    const passkey = await mfa.findPasskeyByCredentialId(response.id);
    if (!passkey || passkey.userId !== user.id || challenge === null) return { ok: false, method: 'webauthn' };
    const verified = await deps.passkeys.verifyAuthentication(response, challenge, passkey);
    if (!verified.ok) return { ok: false, method: 'webauthn' };
    // An authenticator that counts must count up; one that always says 0 does not count.
    const moved = verified.newCounter === 0 && passkey.signCount === 0 ? true : await mfa.advancePasskey(passkey.id, passkey.signCount, verified.newCounter, now);
    return { ok: moved, method: 'webauthn' };
  }

  return {
    /** Whether the role must have a second factor (MFA_REQUIRED_ROLES). */
    isRequired: (role: Role): boolean => deps.requiredRoles.includes(role),

    hasFactor: (userId: string) => mfa.hasFactor(userId),

    async status(actor: Actor): Promise<MfaStatus> {
      const [totp, passkeys, recoveryCodesLeft] = await Promise.all([mfa.findTotp(actor.id), mfa.passkeys(actor.id), mfa.recoveryCodesLeft(actor.id)]);
      return { totp: Boolean(totp?.confirmedAt), webauthn: passkeys.map(presentPasskey), recoveryCodesLeft, required: deps.requiredRoles.includes(actor.role) };
    },

    async startTotp(actor: Actor): Promise<TotpEnrolment> {
      await deps.assertKekReady();
      const secret = newTotpSecret();
      try {
        const { wrapped, kekId } = wrapTotpSecret(deps.kekRing(), actor.id, secret);
        if (!(await mfa.savePendingTotp(actor.id, wrapped, kekId))) {
          throw conflict('An authenticator app is already set up; remove it first to set up another.');
        }
        return totpEnrolment(secret, deps.issuer, actor.username);
      } finally {
        secret.fill(0);
      }
    },

    async confirmTotp(actor: Actor, code: string): Promise<RecoveryCodesResponse> {
      const totp = await mfa.findTotp(actor.id);
      if (!totp || totp.confirmedAt) throw conflict('There is no authenticator app waiting to be confirmed; start the set-up again.');
      await deps.assertKekReady();
      const secret = unwrapTotpSecret(deps.kekRing(), actor.id, totp.wrappedSecret);
      let step: number | null;
      try {
        step = totpStepOf(secret, code, new Date());
      } finally {
        secret.fill(0);
      }
      if (step === null) {
        await audit.record({ operation: 'mfa_failed', success: false, userId: actor.id, ipAddress: actor.ip, details: { method: 'totp', purpose: 'enrolment' } });
        throw invalidCode();
      }
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await audit.record({ operation: 'mfa_enrolled', success: true, userId: actor.id, ipAddress: actor.ip, details: { method: 'totp' } });
      if (!(await mfa.confirmTotp(actor.id, step, recoveryCodes.map((c) => sha256(normalRecoveryCode(c))), new Date()))) {
        throw conflict('There is no authenticator app waiting to be confirmed; start the set-up again.');
      }
      return { recoveryCodes };
    },

    async removeTotp(actor: Actor, password: string): Promise<void> {
      await checkPassword(actor, password);
      const totp = await mfa.findTotp(actor.id);
      if (!totp) throw notFound('Authenticator app');
      await audit.record({ operation: 'mfa_reset', success: true, userId: actor.id, ipAddress: actor.ip, details: { method: 'totp', purpose: 'self' } });
      await mfa.deleteTotp(actor.id);
      await dropCodesIfNoFactor(actor.id);
    },

    async passkeyRegistrationOptions(actor: Actor) {
      const existing = await mfa.passkeys(actor.id);
      const now = new Date();
      await mfa.pruneChallenges(actor.id, now);
      const options = await deps.passkeys.registrationOptions({ userId: actor.id, username: actor.username, exclude: existing });
      const user = await deps.users.findById(actor.id);
      await mfa.createChallenge({
        userId: actor.id,
        purpose: 'passkey_registration',
        tokenHash: null,
        tokenVersion: user?.tokenVersion ?? 0,
        challenge: options.challenge,
        expiresAt: new Date(now.getTime() + MFA_CHALLENGE_TTL_MS),
      });
      return options;
    },

    async registerPasskey(actor: Actor, body: { response: Parameters<Passkeys['verifyRegistration']>[0]; name?: string | undefined }): Promise<Passkey> {
      const now = new Date();
      const pending = await mfa.latestRegistration(actor.id, now);
      if (!pending?.challenge) throw conflict('There is no passkey registration waiting; ask for new options.');
      const verified = await deps.passkeys.verifyRegistration(body.response, pending.challenge);
      if (!verified || !(await mfa.consumeChallenge(pending.id, now))) {
        await audit.record({ operation: 'mfa_failed', success: false, userId: actor.id, ipAddress: actor.ip, details: { method: 'webauthn', purpose: 'enrolment' } });
        throw invalidCode();
      }
      if (await mfa.findPasskeyByCredentialId(verified.credentialId)) throw conflict('This passkey is already registered.');
      const count = (await mfa.passkeys(actor.id)).length;
      await audit.record({ operation: 'mfa_enrolled', success: true, userId: actor.id, ipAddress: actor.ip, details: { method: 'webauthn' } });
      const row = await mfa.addPasskey({ userId: actor.id, ...verified, name: body.name ?? `Passkey ${count + 1}` });
      return presentPasskey(row);
    },

    async removePasskey(actor: Actor, id: string, password: string): Promise<void> {
      await checkPassword(actor, password);
      const mine = (await mfa.passkeys(actor.id)).some((row) => row.id === id);
      if (!mine) throw notFound('Passkey');
      await audit.record({ operation: 'mfa_reset', success: true, userId: actor.id, ipAddress: actor.ip, details: { method: 'webauthn', purpose: 'self' } });
      await mfa.deletePasskey(actor.id, id);
      await dropCodesIfNoFactor(actor.id);
    },

    /** The password was right and the account has a factor: a pending sign-in instead of tokens. */
    async beginSignIn(user: SignInUser): Promise<MfaChallengeResponse> {
      const mfaToken = randomBytes(32).toString('base64url');
      const now = new Date();
      await mfa.pruneChallenges(user.id, now);
      await mfa.createChallenge({
        userId: user.id,
        purpose: 'sign_in',
        tokenHash: sha256(mfaToken),
        tokenVersion: user.tokenVersion,
        challenge: null,
        expiresAt: new Date(now.getTime() + MFA_CHALLENGE_TTL_MS),
      });
      return { mfaRequired: true, mfaToken, methods: await methodsOf(user.id) };
    },

    async passkeyAssertionOptions(mfaToken: string) {
      const now = new Date();
      const row = await pendingSignIn(mfaToken);
      const passkeys = row ? await mfa.passkeys(row.userId) : [];
      if (!row || row.usedAt || row.expiresAt <= now || passkeys.length === 0) throw invalidCode();
      const options = await deps.passkeys.authenticationOptions(passkeys);
      if (!(await mfa.setChallenge(row.id, options.challenge, now))) throw invalidCode();
      return options;
    },

    /**
     * The second step: checks the one factor given inside a slot of the account's
     * failure budget (a wrong or replayed code counts like a wrong password; the right
     * one ends the streak), then ends the pending sign-in. Returns the account.
     */
    async completeSignIn(body: MfaVerifyBody, ip: string): Promise<UserRow> {
      const given = [body.code, body.recoveryCode, body.webauthn].filter((value) => value !== undefined).length;
      if (given !== 1) throw invalidField('body', 'must have exactly one of code, recoveryCode, webauthn');
      const now = new Date();
      const row = await pendingSignIn(body.mfaToken);
      if (!row) throw invalidCode();
      const user = await deps.users.findById(row.userId);
      if (!user) throw invalidCode();
      const live = !row.usedAt && row.expiresAt > now && user.status === 'active' && user.tokenVersion === row.tokenVersion;
      let method: MfaMethod = body.code !== undefined ? 'totp' : body.recoveryCode !== undefined ? 'recovery_code' : 'webauthn';
      const ok = await deps.passwordAttempts.check(user.id, ip, async () => {
        if (!live) return false;
        const result = await verifyFactor(user, body, row.challenge, now);
        method = result.method;
        // Exactly one request ends a pending sign-in, even with two right codes at once.
        return result.ok && (await mfa.consumeChallenge(row.id, now));
      });
      if (!ok) {
        await audit.record({ operation: 'mfa_failed', success: false, userId: user.id, ipAddress: ip, details: { method, reason: live ? 'wrong_code' : 'token_not_live' } });
        throw invalidCode();
      }
      if (method === 'recovery_code') {
        await audit.record({ operation: 'recovery_code_used', success: true, userId: user.id, ipAddress: ip, details: { left: await mfa.recoveryCodesLeft(user.id) } });
      }
      await audit.record({ operation: 'mfa_verified', success: true, userId: user.id, ipAddress: ip, details: { method } });
      return user;
    },

    /** Admin: every factor of the account goes, and every session with them. */
    async reset(userId: string) {
      const removed = await mfa.removeAll(userId);
      await deps.users.bumpTokenVersion(userId);
      return removed;
    },

    /** Erasure: nothing of the account's factors stays. */
    erase: (userId: string) => mfa.removeAll(userId),
  };
}
export type MfaService = ReturnType<typeof createMfaService>;
