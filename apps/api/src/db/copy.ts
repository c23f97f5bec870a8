import { openPrismaClient, providerOf, type Prisma, type PrismaClient } from './client.ts';
import { applyMigrations } from './migrate-runner.ts';

/**
 * Copies every row of the app database from one engine to another (SQLite to
 * PostgreSQL, or back), table by table in dependency order, in primary-key order and
 * fixed-size batches (memory stays flat whatever the size). Both sides are migrated to
 * the committed schema first, as a server start would; the target must be empty.
 *
 * Values go through the generated client, so every type (Bytes, BigInt, DateTime,
 * enums) is converted by Prisma, not by hand.
 */

export const COPY_BATCH = 500;

type Row = Record<string, unknown>;

interface TableCopy {
  /** The table's name in the database (what an operator sees). */
  name: string;
  /** The Prisma model it holds (a test checks that every model has its table here). */
  model: Prisma.ModelName;
  count(client: PrismaClient): Promise<number>;
  /** Up to `take` rows after `after` (the key of the last row copied), in key order. */
  page(client: PrismaClient, after: unknown, take: number): Promise<Row[]>;
  insert(client: PrismaClient, rows: Row[]): Promise<unknown>;
  key: string;
}

/** A table of the schema, in the order its foreign keys need (parents first). */
function table<R extends Row>(
  model: Prisma.ModelName,
  name: string,
  key: keyof R & string,
  delegate: (client: PrismaClient) => {
    count(): Promise<number>;
    findMany(args: { where: object; orderBy: object; take: number }): Promise<R[]>;
    createMany(args: { data: R[] }): Promise<unknown>;
  },
): TableCopy {
  return {
    model,
    name,
    key,
    count: (client) => delegate(client).count(),
    page: (client, after, take) =>
      delegate(client).findMany({ where: after === undefined ? {} : { [key]: { gt: after } }, orderBy: { [key]: 'asc' }, take }),
    insert: (client, rows) => delegate(client).createMany({ data: rows as R[] }),
  };
}

// The delegates' argument types are model-specific; each is narrowed here once, to the
// three calls the copy makes.
type Delegate<R extends Row> = Parameters<typeof table<R>>[3];
const d = <R extends Row>(pick: (client: PrismaClient) => unknown): Delegate<R> => pick as Delegate<R>;

export const TABLES: readonly TableCopy[] = [
  table('User', 'users', 'id', d((c) => c.user)),
  table('EncryptedFile', 'encrypted_files', 'id', d((c) => c.encryptedFile)),
  // The target's triggers wrote a fresh version for each owner as its files arrived; the
  // source's versions replace them, so both sides name the same lists the same way.
  {
    ...table('FileListVersion', 'file_list_versions', 'ownerId', d((c) => c.fileListVersion)),
    insert: (client, rows) =>
      client.$transaction(
        (rows as Array<{ ownerId: string; version: string }>).map((row) =>
          client.fileListVersion.upsert({ where: { ownerId: row.ownerId }, create: row, update: { version: row.version } }),
        ),
      ),
  },
  table('AccessRequest', 'access_requests', 'id', d((c) => c.accessRequest)),
  table('RefreshToken', 'refresh_tokens', 'id', d((c) => c.refreshToken)),
  table('MfaTotp', 'mfa_totp', 'userId', d((c) => c.mfaTotp)),
  table('WebAuthnCredential', 'webauthn_credentials', 'id', d((c) => c.webAuthnCredential)),
  table('RecoveryCode', 'mfa_recovery_codes', 'id', d((c) => c.recoveryCode)),
  table('MfaChallenge', 'mfa_challenges', 'id', d((c) => c.mfaChallenge)),
  table('Notification', 'notifications', 'id', d((c) => c.notification)),
  table('NotificationSetting', 'notification_settings', 'userId', d((c) => c.notificationSetting)),
  table('EmailOutbox', 'email_outbox', 'id', d((c) => c.emailOutbox)),
  table('CryptoLog', 'crypto_logs', 'seq', d((c) => c.cryptoLog)),
  table('AuditChainHead', 'audit_chain_head', 'id', d((c) => c.auditChainHead)),
  table('AuditCheckpoint', 'audit_checkpoints', 'id', d((c) => c.auditCheckpoint)),
  table('Alert', 'alerts', 'id', d((c) => c.alert)),
  table('RotationJob', 'rotation_jobs', 'id', d((c) => c.rotationJob)),
  table('Lease', 'leases', 'name', d((c) => c.lease)),
  table('RateLimit', 'rate_limits', 'key', d((c) => c.rateLimit)),
];

export class CopyRefusedError extends Error {
  override readonly name = 'CopyRefusedError';
}

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface CopyResult {
  tables: TableCount[];
  rows: number;
  countsMatch: boolean;
}

/** Row counts of every table. */
export async function countRows(client: PrismaClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of TABLES) counts[t.name] = await t.count(client);
  return counts;
}

/** Every table's rows from `source` (a client, or an open transaction on one) into `target`. */
async function copyRows(source: PrismaClient, target: PrismaClient, batchSize: number, onProgress?: (progress: CopyProgress) => void) {
  for (const t of TABLES) {
    const total = await t.count(source);
    let copied = 0;
    let after: unknown;
    onProgress?.({ table: t.name, copied, total });
    for (;;) {
      const rows = await t.page(source, after, batchSize);
      if (rows.length === 0) break;
      await t.insert(target, rows);
      copied += rows.length;
      after = rows.at(-1)?.[t.key];
      onProgress?.({ table: t.name, copied, total: Math.max(total, copied) });
      if (rows.length < batchSize) break;
    }
  }
}

/** How long the read transaction of a PostgreSQL snapshot may stay open. */
const SNAPSHOT_TIMEOUT_MS = 6 * 3600_000;

/**
 * A backup's database part when the app database is PostgreSQL: the whole database
 * copied into a new SQLite file (the archive's one database format), read in a single
 * REPEATABLE READ, READ ONLY transaction, so every table shows the same moment while
 * the API keeps writing. The live database is read, never migrated or changed.
 */
export async function snapshotToSqlite(fromUrl: string, toFile: string): Promise<void> {
  const toUrl = `file:${toFile}`;
  await applyMigrations({ databaseUrl: toUrl });
  const source = await openPrismaClient(fromUrl);
  const target = await openPrismaClient(toUrl);
  try {
    await source.$transaction(
      async (tx) => {
        // The first statement of the transaction, so it still may set its mode.
        await tx.$executeRaw`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
        // A transaction offers the same model delegates as its client.
        await copyRows(tx as unknown as PrismaClient, target, COPY_BATCH);
      },
      { maxWait: 10_000, timeout: SNAPSHOT_TIMEOUT_MS },
    );
  } finally {
    await Promise.allSettled([source.$disconnect(), target.$disconnect()]);
  }
}

/**
 * Opens both databases (migrating each), refuses a target that holds any row, copies,
 * then counts both sides again. `verify` runs on the two open clients before they close.
 */
export async function copyDatabase<V>(options: {
  from: string;
  to: string;
  batchSize?: number;
  onProgress?: (progress: CopyProgress) => void;
  verify: (source: PrismaClient, target: PrismaClient) => Promise<V>;
}): Promise<CopyResult & { verification: V }> {
  const batchSize = options.batchSize ?? COPY_BATCH;
  await applyMigrations({ databaseUrl: options.from });
  await applyMigrations({ databaseUrl: options.to });
  const source = await openPrismaClient(options.from);
  const target = await openPrismaClient(options.to);
  try {
    const before = await countRows(target);
    const occupied = Object.entries(before).filter(([, n]) => n > 0);
    if (occupied.length > 0) {
      throw new CopyRefusedError(`the target database is not empty (${occupied.map(([name, n]) => `${name}: ${n}`).join(', ')})`);
    }
    await copyRows(source, target, batchSize, options.onProgress);
    if (providerOf(target) === 'postgresql') {
      // Rows arrived with their seq: move the sequence past them, or the next append collides.
      await target.$executeRaw`SELECT setval(pg_get_serial_sequence('crypto_logs', 'seq'), COALESCE((SELECT MAX(seq) FROM crypto_logs), 0) + 1, false)`;
    }
    const [sourceCounts, targetCounts] = [await countRows(source), await countRows(target)];
    const tables = TABLES.map((t) => ({ table: t.name, source: sourceCounts[t.name] ?? 0, target: targetCounts[t.name] ?? 0 }));
    const verification = await options.verify(source, target);
    return {
      tables,
      rows: tables.reduce((sum, t) => sum + t.target, 0),
      countsMatch: tables.every((t) => t.source === t.target),
      verification,
    };
  } finally {
    await Promise.allSettled([source.$disconnect(), target.$disconnect()]);
  }
}
