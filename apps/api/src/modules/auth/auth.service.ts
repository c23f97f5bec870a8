import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { KeySize, MfaChallengeResponse, MfaVerifyBody, RegisterBody, Role, TokenResponse, User } from '@sfe/contract';
import {
  generateRsaKeyPair,
  hashPassword,
  passwordHashNeedsUpgrade,
  protectPrivateKey,
  unmatchablePasswordHash,
  verifyPassword,
} from '@sfe/crypto';
import { AppError, conflict, fail, unauthorized } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import type { KeyStore } from '../../stores/keystore/index.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import { toUserDto } from '../users/users.presenter.ts';
import type { MfaService } from '../mfa/mfa.service.ts';
import type { PasswordAttempts } from './password-attempts.ts';
import type { RefreshTokensRepository } from './refresh-tokens.repository.ts';

/** A new account: the API registers organizations and consultants; the operator CLI creates admins. */
export type NewAccount = Omit<RegisterBody, 'role'> & { role: Role };

export { LOCKOUT_POLICY } from './password-attempts.ts';

export interface AccessTokenClaims {
  sub: string;
  role: Role;
  /** Token version: bumped to end every access token of the user at once. */
  tv: number;
  /** Refresh-token family (session) this access token belongs to. */
  fid: string;
}

export interface AuthServiceDeps {
  users: UsersRepository;
  refreshTokens: RefreshTokensRepository;
  keyStore: KeyStore;
  audit: AuditLog;
  kdfLimiter: Limiter;
  /** RSA key generation's own bounded pool (503 when its queue is full). */
  keygenLimiter: Limiter;
  signAccessToken: (claims: AccessTokenClaims) => string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  kdf: { pbkdf2Iterations: number; scrypt: { N: number; r: number; p: number } };
  passwordAttempts: PasswordAttempts;
  mfa: Pick<MfaService, 'hasFactor' | 'beginSignIn' | 'completeSignIn'>;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createAuthService(deps: AuthServiceDeps) {
  const { users, refreshTokens, keyStore, audit, kdfLimiter } = deps;
  // Unknown usernames are checked against this, so they cost the same time as real
  // ones; it takes no hashing to make, so not even the first one costs an extra hash.
  const dummyHash = unmatchablePasswordHash(deps.kdf.scrypt);

  async function issueTokens(user: Parameters<typeof toUserDto>[0], familyId: string): Promise<TokenResponse> {
    const refreshToken = randomBytes(32).toString('base64url');
    await refreshTokens.create({
      id: randomUUID(),
      userId: user.id,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(Date.now() + deps.refreshTokenTtlSeconds * 1000),
    });
    const accessToken = deps.signAccessToken({ sub: user.id, role: user.role as Role, tv: user.tokenVersion, fid: familyId });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: deps.accessTokenTtlSeconds, user: toUserDto(user) };
  }

  async function signIn(input: { username: string; password: string }, ip: string): Promise<TokenResponse | MfaChallengeResponse> {
    const now = new Date();
    const found = await users.findByUsername(input.username);
    // An erased account has no password left: it answers exactly like an unknown name.
    const user = found?.status === 'erased' ? null : found;
    if (!user) {
      // Counted, locked and timed like a real account, so no answer tells them apart.
      await deps.passwordAttempts.countUnknown(input.username);
      await kdfLimiter.run(() => verifyPassword(input.password, dummyHash));
      await audit.record({ operation: 'login_failed', success: false, ipAddress: ip, details: { reason: 'unknown_user' } });
      throw fail('INVALID_CREDENTIALS', 'Invalid username or password.');
    }
    // With a second factor the right password does not end a failure streak: only the
    // second step does, or the password would reset the budget its codes spend from.
    const secondFactor = await deps.mfa.hasFactor(user.id);
    const ok = await deps.passwordAttempts.check(
      user.id,
      ip,
      () => kdfLimiter.run(() => verifyPassword(input.password, user.passwordHash)),
      { keepStreak: secondFactor },
    );
    if (!ok) {
      await audit.record({ operation: 'login_failed', success: false, userId: user.id, ipAddress: ip, details: { reason: 'wrong_password' } });
      throw fail('INVALID_CREDENTIALS', 'Invalid username or password.');
    }
    if (user.status !== 'active') {
      await audit.record({ operation: 'login_failed', success: false, userId: user.id, ipAddress: ip, details: { reason: 'disabled' } });
      throw fail('ACCOUNT_DISABLED', 'This account is disabled. Contact your administrator.');
    }
    if (passwordHashNeedsUpgrade(user.passwordHash, deps.kdf.scrypt)) {
      const upgraded = await kdfLimiter.run(() => hashPassword(input.password, deps.kdf.scrypt));
      await users.updatePasswordHash(user.id, upgraded);
    }
    if (secondFactor) return deps.mfa.beginSignIn(user);
    await users.touchLastLogin(user.id, now);
    await audit.record({ operation: 'login_succeeded', success: true, userId: user.id, ipAddress: ip });
    return issueTokens(user, randomUUID());
  }

  return {
    async register(input: NewAccount, ip: string): Promise<User> {
      if (await users.findByUsername(input.username)) throw conflict('That username is taken.');
      const keySize: KeySize = input.keySize ?? 2048;
      const userId = randomUUID();
      // The key pair first: when key generation is saturated the answer is a quick 503,
      // before any password hashing is spent on this request.
      const keyPair = await deps.keygenLimiter.run(() => generateRsaKeyPair(keySize)).catch(async (error: unknown) => {
        if (!(error instanceof AppError)) {
          await audit.record({ operation: 'keypair_generated', success: false, userId, ipAddress: ip, details: { algorithm: `RSA-${keySize}` } });
        }
        throw error;
      });
      const passwordHash = await kdfLimiter.run(() => hashPassword(input.password, deps.kdf.scrypt));
      const protectedKey = await kdfLimiter.run(() =>
        protectPrivateKey(keyPair.privateKeyDer, input.password, { userId, fingerprint: keyPair.fingerprint }, {
          iterations: deps.kdf.pbkdf2Iterations,
        }),
      );
      keyPair.privateKeyDer.fill(0);
      // Key store first: if it is down nothing is written; if the user row then fails,
      // the key record is removed again, so there is never a user without a key.
      await keyStore.insert({ userId, ...protectedKey, algorithm: keyPair.algorithm, fingerprint: keyPair.fingerprint });
      try {
        const row = await users.create({
          id: userId,
          username: input.username,
          passwordHash,
          role: input.role,
          publicKeyPem: keyPair.publicKeyPem,
          publicKeyFingerprint: keyPair.fingerprint,
          keyAlgorithm: keyPair.algorithm,
          keyGeneratedAt: new Date(),
        });
        await audit.record({
          operation: 'keypair_generated',
          success: true,
          userId,
          ipAddress: ip,
          details: { algorithm: keyPair.algorithm, fingerprint: keyPair.fingerprint, kdf: protectedKey.kdf, iterations: protectedKey.iterations },
        });
        return toUserDto(row);
      } catch (error) {
        await keyStore.delete(userId).catch(() => undefined);
        if (isUniqueViolation(error)) throw conflict('That username is taken.');
        throw error;
      }
    },

    /** Sign-in, under the throttle of the client address and username (password-attempts.ts). */
    login: (input: { username: string; password: string }, ip: string): Promise<TokenResponse | MfaChallengeResponse> =>
      deps.passwordAttempts.throttleSignIn(ip, input.username, () => signIn(input, ip)),

    /** The second sign-in step (mfa.service.ts checks the factor): the same tokens a password-only login gets. */
    async completeMfa(body: MfaVerifyBody, ip: string): Promise<TokenResponse> {
      const user = await deps.mfa.completeSignIn(body, ip);
      await users.touchLastLogin(user.id, new Date());
      await audit.record({ operation: 'login_succeeded', success: true, userId: user.id, ipAddress: ip });
      return issueTokens(user, randomUUID());
    },

    async refresh(refreshToken: string, ip: string): Promise<TokenResponse> {
      const now = new Date();
      const stored = await refreshTokens.findByHash(hashToken(refreshToken));
      if (!stored || stored.expiresAt <= now) throw unauthorized('The refresh token is invalid or expired.');
      const reused = stored.usedAt !== null || stored.revokedAt !== null || !(await refreshTokens.consume(stored.id, now));
      if (reused) {
        // A token presented twice means one copy is in the wrong hands: end the session.
        await refreshTokens.revokeFamily(stored.familyId, now);
        if (stored.revokedAt === null) {
          await audit.record({ operation: 'refresh_token_reused', success: false, userId: stored.userId, ipAddress: ip });
        }
        throw unauthorized('The refresh token is invalid or expired.');
      }
      const user = await users.findById(stored.userId);
      if (!user || user.status !== 'active') {
        await refreshTokens.revokeFamily(stored.familyId, now);
        throw unauthorized('The refresh token is invalid or expired.');
      }
      const tokens = await issueTokens(user, stored.familyId);
      return tokens;
    },

    async logout(refreshToken: string): Promise<void> {
      const stored = await refreshTokens.findByHash(hashToken(refreshToken));
      if (stored) await refreshTokens.revokeFamily(stored.familyId, new Date());
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
