import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPrismaClient, Prisma, type PrismaClient } from '../../src/db/client.ts';
import { limitLiteral, readRows, toDate, toIsoInstant } from '../../src/db/direct-read.ts';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { createFilesRepository, fileListQuery } from '../../src/modules/files/files.repository.ts';
import { makeDataDir } from '../helpers/app.ts';
import { testDatabaseUrl } from '../helpers/database.ts';

// The hot-path reader against the real database (the SQLite file here, PostgreSQL in
// the api-pg project): what it reads must be what Prisma reads, bound values included.

let databaseUrl: string;
let prisma: PrismaClient;
let userId: string;

beforeAll(async () => {
  const dataDir = await makeDataDir();
  databaseUrl = testDatabaseUrl(dataDir) ?? `file:${path.join(dataDir, 'sfe.db')}`;
  await applyMigrations({ databaseUrl });
  prisma = await openPrismaClient(databaseUrl);
  userId = randomUUID();
  await prisma.user.create({ data: { id: userId, username: `direct-${userId.slice(0, 8)}`, usernameKey: `direct-${userId.slice(0, 8)}`, passwordHash: 'x', role: 'organization' } });
});
afterAll(async () => {
  await prisma.$disconnect();
});

const idOf = (values: unknown[]) => ({ id: values[0] as string });

describe('readRows', () => {
  it('connects by itself: the first statement of a fresh client, and again after a disconnect', async () => {
    const fresh = await openPrismaClient(databaseUrl);
    try {
      expect(await readRows(fresh, Prisma.sql`SELECT id FROM users WHERE id = ${userId}`, idOf)).toEqual([{ id: userId }]);
      await fresh.$disconnect();
      expect(await readRows(fresh, Prisma.sql`SELECT id FROM users WHERE id = ${userId}`, idOf)).toEqual([{ id: userId }]);
    } finally {
      await fresh.$disconnect();
    }
  });

  it('binds a Date exactly as Prisma stores it: > and >= at the millisecond agree with Prisma', async () => {
    const familyId = randomUUID();
    const at = new Date('2031-05-06T07:08:09.123Z');
    const offsets = [-1, 0, 1];
    for (const offset of offsets) {
      await prisma.refreshToken.create({
        data: { id: `${familyId}-${offset}`, userId, familyId, tokenHash: randomUUID(), expiresAt: new Date(at.getTime() + offset) },
      });
    }
    const ids = (rows: Array<{ id: string }>) => rows.map((row) => row.id).sort();
    for (const [operator, where] of [
      ['>', { gt: at }],
      ['>=', { gte: at }],
    ] as const) {
      const direct = await readRows(
        prisma,
        Prisma.sql`SELECT id FROM refresh_tokens WHERE family_id = ${familyId} AND expires_at ${Prisma.raw(operator)} ${at}`,
        idOf,
      );
      const viaPrisma = await prisma.refreshToken.findMany({ where: { familyId, expiresAt: where }, select: { id: true } });
      expect(ids(direct)).toEqual(ids(viaPrisma));
      expect(direct).toHaveLength(operator === '>' ? 1 : 2);
    }
  });

  it('hands the mapper the columns in SELECT order, on either driver', async () => {
    const rows = await readRows(prisma, Prisma.sql`SELECT 'b' AS zeta, 'a' AS alpha, id FROM users WHERE id = ${userId}`, (values) => values);
    expect(rows).toEqual([['b', 'a', userId]]);
  });

  it('reads what Prisma wrote a moment before, and its dates come back as the same instants', async () => {
    const createdAt = new Date('2030-01-02T03:04:05.678Z');
    const id = randomUUID();
    await prisma.encryptedFile.create({
      data: {
        id, ownerId: userId, filename: 'a.txt', contentType: 'text/plain', size: 9_007_199_254n, sha256: 'ab'.repeat(32),
        algorithm: 'aes_256_gcm', blobKey: randomUUID(), createdAt,
      },
    });
    const [row] = await readRows(
      prisma,
      Prisma.sql`SELECT size, algorithm, created_at FROM encrypted_files WHERE id = ${id}`,
      (values) => ({ size: values[0], algorithm: values[1], createdAt: values[2] }),
    );
    expect(Number(row?.size)).toBe(9_007_199_254);
    // The enum's mapped name, as stored: what @sfe/crypto calls the algorithm.
    expect(row?.algorithm).toBe('aes-256-gcm');
    expect(toDate(row?.createdAt).toISOString()).toBe(createdAt.toISOString());
    expect(toIsoInstant(row?.createdAt)).toBe(createdAt.toISOString());
  });
});

describe('the file list on the reader', () => {
  it('pages through files created in the same millisecond without skipping or repeating one', async () => {
    const ownerId = randomUUID();
    await prisma.user.create({ data: { id: ownerId, username: `pager-${ownerId.slice(0, 8)}`, usernameKey: `pager-${ownerId.slice(0, 8)}`, passwordHash: 'x', role: 'organization' } });
    const same = new Date('2030-06-01T00:00:00.000Z');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = randomUUID();
      ids.push(id);
      await prisma.encryptedFile.create({
        data: { id, ownerId, filename: `same-${i}.txt`, contentType: 'text/plain', size: 1n, sha256: 'ab'.repeat(32), algorithm: 'aes_256_gcm', blobKey: randomUUID(), createdAt: i < 5 ? same : new Date(same.getTime() + i) },
      });
    }
    const files = createFilesRepository(prisma);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await files.list({ owner: { id: ownerId, username: 'pager' }, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...result.rows.map((row) => row.id));
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }
    // Newest first, ties by id descending: the two later files, then the five equal ones.
    const expected = [ids[6], ids[5], ...ids.slice(0, 5).sort().reverse()];
    expect(seen).toEqual(expected);
  });
});

describe('limitLiteral', () => {
  it('splices a page size into the SQL text, and nothing but a positive integer', () => {
    expect(Prisma.sql`SELECT 1 LIMIT ${limitLiteral(51)}`.sql).toBe('SELECT 1 LIMIT 51');
    for (const bad of [0, -1, 1.5, Number.NaN, 1001, '51; DROP TABLE users' as unknown as number]) {
      expect(() => limitLiteral(bad)).toThrow(RangeError);
    }
  });

  it('is how the file list asks for its page: no bound LIMIT for SQLite to re-plan on every run', () => {
    const query = fileListQuery({ owner: { id: userId, username: 'u' }, limit: 50 });
    expect(query.sql).toMatch(/LIMIT 51$/);
    // The owner, bound twice (the list version's subquery, the rows' filter), and no page size.
    expect(query.values).toEqual([userId, userId]);
  });
});

describe('toIsoInstant', () => {
  it('gives what toDate then toISOString give, for every stored form', () => {
    const instants = ['2026-12-02T10:00:00.000Z', '1999-01-31T23:59:59.999Z', '2031-05-06T07:08:09.123Z'];
    for (const instant of instants) {
      for (const stored of [instant.replace('Z', '+00:00'), new Date(instant), Date.parse(instant)]) {
        expect(toIsoInstant(stored)).toBe(instant);
      }
    }
    expect(toIsoInstant('2026-12-02 10:00:00')).toBe('2026-12-02T10:00:00.000Z');
    // Another offset is not the fast path's: it is converted, not copied.
    expect(toIsoInstant('2026-12-02T12:00:00.000+02:00')).toBe('2026-12-02T10:00:00.000Z');
    expect(() => toIsoInstant('not a date at all, 29 chars!!')).toThrow(TypeError);
  });
});

describe('toDate', () => {
  it('reads every form a driver returns, and SQLite CURRENT_TIMESTAMP text as UTC', () => {
    const instant = '2026-12-02T10:00:00.000Z';
    expect(toDate(new Date(instant)).toISOString()).toBe(instant);
    expect(toDate('2026-12-02T10:00:00.000+00:00').toISOString()).toBe(instant);
    expect(toDate('2026-12-02 10:00:00').toISOString()).toBe(instant);
    expect(toDate(Date.parse(instant)).toISOString()).toBe(instant);
    expect(toDate(BigInt(Date.parse(instant))).toISOString()).toBe(instant);
    expect(() => toDate('not a date')).toThrow(TypeError);
    expect(() => toDate(null)).toThrow(TypeError);
  });
});
