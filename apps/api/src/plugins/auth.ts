import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import type { Role } from '@sfe/contract';
import type { Actor } from '../lib/actor.ts';
import { API_PREFIX } from '@sfe/contract';
import { fail, forbidden, unauthorized } from '../lib/errors.ts';
import type { AccessTokenClaims } from '../modules/auth/auth.service.ts';
import type { SessionState, SessionStateRepository } from '../modules/auth/session-state.repository.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    /** The account as the authentication check read it, this request (never cached across requests). */
    account: SessionState;
  }
  interface FastifyInstance {
    authenticate: onRequestAsyncHookHandler;
    requireRole: (...roles: Role[]) => onRequestAsyncHookHandler;
    signAccessToken: (claims: AccessTokenClaims) => string;
  }
}
declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims;
    user: AccessTokenClaims;
  }
}

const AUDIENCE = 'sfe-api';
const ISSUER = 'sfe';
/** Verified access tokens kept, least recently used out (a few hundred bytes each). */
const JWT_VERIFY_CACHE_SIZE = 1000;

export interface AuthPluginOptions {
  secret: string;
  accessTokenTtlSeconds: number;
  sessions: SessionStateRepository;
  /** Whether a role must have a second factor (MFA_REQUIRED_ROLES); the session check reads whether it has one. */
  mfaRequired?: (role: Role) => boolean;
}

/** Reachable without a second factor even by a role that needs one: sign-in and enrolment. */
const MFA_EXEMPT = [`${API_PREFIX}/auth/`, `${API_PREFIX}/users/me/mfa`];
const mfaExempt = (route: string | undefined) =>
  route !== undefined && (route === `${API_PREFIX}/users/me` || MFA_EXEMPT.some((prefix) => route.startsWith(prefix)));

/**
 * The token of an `Authorization: Bearer <token>` header (the scheme in any case), as
 * @fastify/jwt reads it; anything else throws. Verified with the plugin's one verifier,
 * built at start-up: `request.jwtVerify()` decodes the token twice and merges its
 * options anew on every request.
 */
function bearerToken(header: string | undefined): string {
  const parts = header?.split(' ');
  if (parts?.length !== 2 || parts[0]?.toLowerCase() !== 'bearer' || !parts[1]) throw new Error('no bearer token');
  return parts[1];
}

/**
 * Access tokens are short-lived HS256 JWTs. Each request also checks the account's
 * status and token version and the session (refresh-token family) in the database, so
 * disabling an account, changing a password or logging out ends its tokens at once
 * rather than at expiry.
 */
async function authPlugin(app: FastifyInstance, options: AuthPluginOptions) {
  await app.register(fastifyJwt, {
    secret: options.secret,
    sign: { algorithm: 'HS256', expiresIn: options.accessTokenTtlSeconds, aud: AUDIENCE, iss: ISSUER },
    // A token must name us as audience and issuer and carry its subject and expiry: a
    // claim left out is never read as "any".
    verify: {
      algorithms: ['HS256'],
      allowedAud: AUDIENCE,
      allowedIss: ISSUER,
      requiredClaims: ['aud', 'iss', 'sub', 'exp', 'iat'],
      // A token that verified is not verified again while it stays valid: fast-jwt keeps
      // its claims (keyed by a hash of the token, never the token) until the earlier of
      // its expiry and 10 minutes, so a client's repeated requests skip the base64 and
      // JSON decoding, the HMAC and the claim checks. Refused tokens are not kept. The
      // account and session are still read on every request (below).
      cache: JWT_VERIFY_CACHE_SIZE,
    },
  });

  app.decorateRequest('actor', null as unknown as Actor);
  app.decorateRequest('account', null as unknown as SessionState);
  app.decorate('signAccessToken', (claims: AccessTokenClaims) => app.jwt.sign(claims));

  app.decorate('authenticate', async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
    let claims: AccessTokenClaims;
    try {
      claims = app.jwt.verify<AccessTokenClaims>(bearerToken(request.headers.authorization));
    } catch {
      throw unauthorized('A valid access token is required.');
    }
    if (typeof claims.sub !== 'string' || typeof claims.tv !== 'number' || typeof claims.fid !== 'string') {
      throw unauthorized('A valid access token is required.');
    }
    // One indexed read per request, never a cache: logout and a detected refresh-token
    // reuse end the session (its family), so its access tokens stop here, at once.
    const user = await options.sessions.find(claims.sub, claims.fid, new Date());
    if (!user || user.status !== 'active' || user.tokenVersion !== claims.tv || !user.sessionLive) {
      throw unauthorized('This session has ended; sign in again.');
    }
    request.account = user;
    request.actor = {
      id: user.id,
      role: user.role as Role,
      username: user.username,
      ip: request.ip,
      sessionFamily: claims.fid,
    };
    if (options.mfaRequired?.(user.role as Role) && !user.hasSecondFactor && !mfaExempt(request.routeOptions.url)) {
      throw fail('MFA_REQUIRED', 'Your role needs a second factor: set up an authenticator app or a passkey on your profile first.');
    }
  });

  app.decorate('requireRole', (...roles: Role[]) =>
    async function requireRole(request: FastifyRequest) {
      if (!roles.includes(request.actor.role)) throw forbidden(`This needs the ${roles.join(' or ')} role.`);
    },
  );
}

export default fp(authPlugin, { name: 'sfe-auth', dependencies: ['sfe-errors'] });
