import { Prisma, type PrismaClient, type User } from '../../db/client.ts';
import { readRows, toBoolean, toDate, toDateOrNull } from '../../db/direct-read.ts';
import { secondFactorExists } from '../mfa/mfa.repository.ts';

/** The account as the session check reads it: the user's own columns, typed by Prisma. */
export type SessionState = Pick<User, 'id' | 'username' | 'role' | 'status' | 'tokenVersion' | 'publicKeyFingerprint' | 'keyGeneratedAt' | 'createdAt'> & {
  /** The token's session (refresh-token family) is the user's, not revoked and not expired. */
  sessionLive: boolean;
  /** A confirmed authenticator app or a passkey (what an MFA-required role must have). */
  hasSecondFactor: boolean;
  /** The state of the files this account owns (file_list_versions); null until it has had one. */
  fileListVersion: string | null;
};

/** The session statement's columns, in its SELECT order, as either driver returns them. */
const sessionStateOfColumns = (values: unknown[]): SessionState => ({
  id: values[0] as string,
  username: values[1] as string,
  role: values[2] as SessionState['role'],
  status: values[3] as SessionState['status'],
  tokenVersion: Number(values[4]),
  publicKeyFingerprint: values[5] as string | null,
  keyGeneratedAt: toDateOrNull(values[6]),
  createdAt: toDate(values[7]),
  sessionLive: toBoolean(values[8] as number | bigint | boolean),
  hasSecondFactor: toBoolean(values[9] as number | bigint | boolean),
  fileListVersion: (values[10] as string | null) ?? null,
});

/**
 * The per-request authentication check as ONE statement: the account's state and its
 * session's liveness. It runs on every authenticated request, so it is a single indexed
 * read (users.id, then indexed lookups of its tokens and factors) in plain SQL, not Prisma queries:
 * each Prisma operation costs far more main-thread time than SQLite needs to answer it.
 * The session's tokens are found by (family_id, user_id): by user_id alone, SQLite walked
 * every token the user ever had, so the check grew with each sign-in and refresh.
 * Nothing is cached: a disable, password change or logout shows on the very next request.
 * It also reads what `GET /auth/me` answers, so that route needs no statement of its own,
 * whether the account has a second factor, for the MFA_REQUIRED gate, and the version of
 * the account's file list, against which a kept page of that list is checked.
 */
export function sessionStateQuery(userId: string, familyId: string, now: Date): Prisma.Sql {
  return Prisma.sql`
    SELECT u.id, u.username, u.role, u.status, u.token_version, u.public_key_fingerprint, u.key_generated_at, u.created_at,
      EXISTS (
        SELECT 1 FROM refresh_tokens t
        WHERE t.family_id = ${familyId} AND t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > ${now}
      ) AS session_live,
      ${secondFactorExists(Prisma.sql`u.id`)} AS has_second_factor,
      (SELECT v.version FROM file_list_versions v WHERE v.owner_id = u.id) AS file_list_version
    FROM users u WHERE u.id = ${userId}`;
}

export function createSessionStateRepository(prisma: PrismaClient) {
  return {
    async find(userId: string, familyId: string, now: Date): Promise<SessionState | null> {
      const [state] = await readRows(prisma, sessionStateQuery(userId, familyId, now), sessionStateOfColumns);
      return state ?? null;
    },
  };
}
export type SessionStateRepository = ReturnType<typeof createSessionStateRepository>;
