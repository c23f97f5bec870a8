import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { KeySize, RegisterBody, Role, TokenResponse, User } from '@sfe/contract';
import { generateRsaKeyPair, hashPassword, passwordHashNeedsUpgrade, protectPrivateKey, verifyPassword } from '@sfe/crypto';
import { AppError, conflict, unauthorized } from '../../lib/errors.ts';
import type { Limiter } from '../../lib/limiter.ts';
import type { KeyStore } from '../../stores/keystore/index.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import { toUserDto } from '../users/users.presenter.ts';
import type { RefreshTokensRepository } from './refresh-tokens.repository.ts';

/** A new account: the API registers organizations and consultants; the operator CLI creates admins. */
export type NewAccount = Omit<RegisterBody, 'role'> & { role: Role };

export const LOCKOUT_POLICY = { threshold: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 } as const;

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
  signAccessToken: (claims: AccessTokenClaims) => string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  kdf: { pbkdf2Iterations: number; scrypt: { N: number; r: number; p: number } };
  onFailedLogin?: () => void;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createAuthService(deps: AuthServiceDeps) {
  const { users, refreshTokens, keyStore, audit, kdfLimiter } = deps;
  // Unknown usernames are checked against this, so they cost the same time as real ones.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex'), deps.kdf.scrypt));
  // Made at start-up, so not even the first unknown username costs an extra hash.
  dummy().catch(() => {
    dummyHash = undefined;
  });

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

  return {
    async register(input: NewAccount, ip: string): Promise<User> {
      if (await users.findByUsername(input.username)) throw conflict('That username is taken.');
      const keySize: KeySize = input.keySize ?? 2048;
      const userId = randomUUID();
      const [passwordHash, keyPair] = await Promise.all([
        kdfLimiter.run(() => hashPassword(input.password, deps.kdf.scrypt)),
        kdfLimiter.run(() => generateRsaKeyPair(keySize)).catch(async (error: unknown) => {
          await audit.record({ operation: 'keypair_generated', success: false, userId, ipAddress: ip, details: { algorithm: `RSA-${keySize}` } });
          throw error;
        }),
      ]);
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

    async login(input: { username: string; password: string }, ip: string): Promise<TokenResponse> {
      const now = new Date();
      const found = await users.findByUsername(input.username);
      // An erased account has no password left: it answers exactly like an unknown name.
      const user = found?.status === 'erased' ? null : found;
      if (!user) {
        await kdfLimiter.run(async () => verifyPassword(input.password, await dummy()));
        deps.onFailedLogin?.();
        await audit.record({ operation: 'login_failed', success: false, ipAddress: ip, details: { reason: 'unknown_user' } });
        throw new AppError(401, 'INVALID_CREDENTIALS', 'Invalid username or password.');
      }
      if (user.lockedUntil && user.lockedUntil > now) throw lockedError(user.lockedUntil, now);

      const ok = await kdfLimiter.run(() => verifyPassword(input.password, user.passwordHash));
      if (!ok) {
        deps.onFailedLogin?.();
        await audit.record({ operation: 'login_failed', success: false, userId: user.id, ipAddress: ip, details: { reason: 'wrong_password' } });
        // The failure that reaches the threshold is answered like any other; the lock
        // applies to the attempts after it ("after 10 failures ... locked", docs/api.md).
        const lock = await users.registerFailedLogin(user.id, now, LOCKOUT_POLICY);
        if (lock.newlyLocked && lock.lockedUntil) {
          await audit.record({
            operation: 'account_locked',
            success: true,
            userId: user.id,
            ipAddress: ip,
            details: { until: lock.lockedUntil.toISOString(), failures: LOCKOUT_POLICY.threshold },
          });
        }
        throw new AppError(401, 'INVALID_CREDENTIALS', 'Invalid username or password.');
      }
      if (user.status !== 'active') {
        await audit.record({ operation: 'login_failed', success: false, userId: user.id, ipAddress: ip, details: { reason: 'disabled' } });
        throw new AppError(403, 'ACCOUNT_DISABLED', 'This account is disabled. Contact your administrator.');
      }
      await users.clearFailedLogins(user.id);
      if (passwordHashNeedsUpgrade(user.passwordHash, deps.kdf.scrypt)) {
        const upgraded = await kdfLimiter.run(() => hashPassword(input.password, deps.kdf.scrypt));
        await users.updatePasswordHash(user.id, upgraded);
      }
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

    async me(userId: string): Promise<User> {
      const user = await users.findById(userId);
      if (!user) throw unauthorized();
      return toUserDto(user);
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;

function lockedError(until: Date, now: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new AppError(429, 'ACCOUNT_LOCKED', `Too many failed sign-in attempts. Try again in ${Math.ceil(seconds / 60)} minute(s).`, {
    'retry-after': String(seconds),
  });
}
