import type { PrismaClient } from '../../db/client.ts';

export interface SessionState {
  id: string;
  username: string;
  role: string;
  status: string;
  tokenVersion: number;
  publicKeyFingerprint: string | null;
  keyGeneratedAt: Date | null;
  createdAt: Date;
  /** The token's session (refresh-token family) is the user's, not revoked and not expired. */
  sessionLive: boolean;
}

interface SessionStateRow {
  id: string;
  username: string;
  role: string;
  status: string;
  tokenVersion: number | bigint;
  publicKeyFingerprint: string | null;
  keyGeneratedAt: Date | null;
  createdAt: Date;
  sessionLive: number | bigint | boolean;
}

/**
 * The per-request authentication check as ONE statement: the account's state and its
 * session's liveness. It runs on every authenticated request, so it is a single indexed
 * read (users.id, refresh_tokens.family_id) in plain SQL rather than two Prisma queries:
 * each Prisma operation costs far more main-thread time than SQLite needs to answer it.
 * Nothing is cached: a disable, password change or logout shows on the very next request.
 * It also reads what `GET /auth/me` answers, so that route needs no statement of its own.
 */
export function createSessionStateRepository(prisma: PrismaClient) {
  return {
    async find(userId: string, familyId: string, now: Date): Promise<SessionState | null> {
      const rows = await prisma.$queryRaw<SessionStateRow[]>`
        SELECT u.id, u.username, u.role, u.status, u.token_version AS "tokenVersion",
          u.public_key_fingerprint AS "publicKeyFingerprint", u.key_generated_at AS "keyGeneratedAt", u.created_at AS "createdAt",
          EXISTS (
            SELECT 1 FROM refresh_tokens t
            WHERE t.family_id = ${familyId} AND t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > ${now}
          ) AS "sessionLive"
        FROM users u WHERE u.id = ${userId}`;
      const row = rows[0];
      if (row === undefined) return null;
      return {
        id: row.id,
        username: row.username,
        role: row.role,
        status: row.status,
        tokenVersion: Number(row.tokenVersion),
        publicKeyFingerprint: row.publicKeyFingerprint,
        keyGeneratedAt: row.keyGeneratedAt === null ? null : new Date(row.keyGeneratedAt),
        createdAt: new Date(row.createdAt),
        sessionLive: Number(row.sessionLive) === 1,
      };
    },
  };
}
export type SessionStateRepository = ReturnType<typeof createSessionStateRepository>;
