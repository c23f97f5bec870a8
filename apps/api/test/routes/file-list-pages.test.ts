import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileList } from '@sfe/contract';
import { openPrismaClient, type PrismaClient } from '../../src/db/client.ts';
import { ListPageCache } from '../../src/modules/files/files.page-cache.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { expectProblem, newUser, uploadFile } from '../helpers/fixtures.ts';

/**
 * An organization's own file list is served from a kept serialized page while the
 * owner's list version (file_list_versions, written by triggers) is the one the page was
 * read at. Every change to the owner's files, made through this app or straight in the
 * database by another process (a second client here), must show on the very next request.
 */
describe('kept pages of an organization file list', () => {
  let t: TestApp;
  let org: Session;
  let otherOrg: Session;
  let con: Session;
  /** Another connection to the same database: what another replica or the CLI writes through. */
  let other: PrismaClient;

  beforeAll(async () => {
    t = await buildTestApp();
    org = await newUser(t.app, 'organization');
    otherOrg = await newUser(t.app, 'organization');
    con = await newUser(t.app, 'consultant');
    other = await openPrismaClient(t.config.databaseUrl);
  });
  afterAll(async () => {
    await other.$disconnect();
    await t.cleanup();
  });

  const list = (session: Session, query = '') => t.app.inject({ method: 'GET', url: `/api/v1/files${query}`, headers: session.headers });
  const names = (body: string) => (JSON.parse(body) as FileList).items.map((item) => item.filename);
  const versionOf = async (ownerId: string) => (await other.fileListVersion.findUnique({ where: { ownerId } }))?.version ?? null;
  const upload = (session: Session, filename: string, description?: string) =>
    uploadFile(t.app, session, { data: randomBytes(64), filename, ...(description === undefined ? {} : { description }) });

  it('answers a repeated request with the same bytes and headers as the first, serialized by the route schema', async () => {
    // Names and a description that JSON must escape, and text outside ASCII.
    const quoted = await upload(org, 'quote.txt', 'back\\slash, tab\t, newline\n, "quotes", ünïcödé, 💾, \u2028');
    await upload(org, 'räksmörgås.pdf');
    // A name the multipart header could not carry, as another writer may store it.
    await other.encryptedFile.update({ where: { id: quoted.id }, data: { filename: 'quote"\\.txt' } });
    const first = await list(org);
    const second = await list(org);
    expect(first.statusCode, first.body).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(second.headers['content-length']).toBe(String(Buffer.byteLength(first.body)));
    for (const header of ['cache-control', 'content-security-policy', 'x-content-type-options', 'strict-transport-security']) {
      expect(second.headers[header], header).toBe(first.headers[header]);
    }
    const page = JSON.parse(second.body) as FileList;
    expect(page.items.map((item) => item.filename)).toEqual(['räksmörgås.pdf', 'quote"\\.txt']);
    expect(page.items[1]!.description).toBe('back\\slash, tab\t, newline\n, "quotes", ünïcödé, 💾, \u2028');
    expect(page.items.every((item) => item.ownerId === org.id && item.ownerName === org.username)).toBe(true);
  });

  it('shows an upload and a deletion through the API on the next request', async () => {
    expect(names((await list(org)).body)).not.toContain('new.bin');
    const created = await upload(org, 'new.bin');
    expect(names((await list(org)).body)[0]).toBe('new.bin');
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/v1/files/${created.id}`, headers: org.headers });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(names((await list(org)).body)).not.toContain('new.bin');
  });

  it('shows a change another process writes straight to the database on the next request', async () => {
    const file = await upload(org, 'before.txt');
    expect(names((await list(org)).body)).toContain('before.txt');
    const kept = await versionOf(org.id);

    await other.encryptedFile.update({ where: { id: file.id }, data: { filename: 'after.txt' } });
    expect(await versionOf(org.id)).not.toBe(kept);
    expect(names((await list(org)).body)).toContain('after.txt');

    await other.encryptedFile.update({ where: { id: file.id }, data: { description: 'set elsewhere' } });
    const page = JSON.parse((await list(org)).body) as FileList;
    expect(page.items.find((item) => item.id === file.id)?.description).toBe('set elsewhere');

    await other.encryptedFile.update({ where: { id: file.id }, data: { deletedAt: new Date() } });
    expect(names((await list(org)).body)).not.toContain('after.txt');
  });

  it('gives every change a new version, never an earlier one, and leaves it alone when nothing listed changes', async () => {
    const file = await upload(org, 'toggle.txt');
    const seen = new Set([await versionOf(org.id)]);
    for (const filename of ['toggled.txt', 'toggle.txt', 'toggled.txt']) {
      await other.encryptedFile.update({ where: { id: file.id }, data: { filename } });
      const version = await versionOf(org.id);
      expect(seen.has(version), 'a version seen before came back').toBe(false);
      seen.add(version);
    }
    // Re-wrapping a DEK (KEK rotation) changes no listed column: the kept page stays valid.
    const before = await versionOf(org.id);
    const row = await other.encryptedFile.findUniqueOrThrow({ where: { id: file.id } });
    await other.encryptedFile.update({ where: { id: file.id }, data: { wrappedKeyVersion: row.wrappedKeyVersion + 1 } });
    expect(await versionOf(org.id)).toBe(before);
    // Removing the row altogether (a tombstone purged) is a change too.
    await other.encryptedFile.update({ where: { id: file.id }, data: { deletedAt: new Date() } });
    const shredded = await versionOf(org.id);
    await other.encryptedFile.delete({ where: { id: file.id } });
    expect(await versionOf(org.id)).not.toBe(shredded);
  });

  it('keeps one page per query: page size and name filter each get their own', async () => {
    await upload(org, 'alpha-1.txt');
    await upload(org, 'alpha-2.txt');
    const all = names((await list(org)).body);
    const one = names((await list(org, '?limit=1')).body);
    const alpha = names((await list(org, '?q=alpha')).body);
    expect(one).toEqual(all.slice(0, 1));
    expect(alpha.every((name) => name.startsWith('alpha-'))).toBe(true);
    expect(alpha).toHaveLength(2);
    // And again, from the kept pages.
    expect(names((await list(org, '?limit=1')).body)).toEqual(one);
    expect(names((await list(org, '?q=alpha')).body)).toEqual(alpha);
    expect(names((await list(org)).body)).toEqual(all);
  });

  it("never answers one account with another's page, and checks the account first", async () => {
    await upload(otherOrg, 'theirs.txt');
    await list(org);
    await list(org);
    const theirs = names((await list(otherOrg)).body);
    expect(theirs).toEqual(['theirs.txt']);
    // A consultant sees every organization's files (their own access state included).
    const consultant = JSON.parse((await list(con)).body) as FileList;
    expect(consultant.items.some((item) => item.ownerId === otherOrg.id)).toBe(true);
    expect(consultant.items.every((item) => item.myAccess === 'none')).toBe(true);

    // A disabled account is refused even though its page is kept.
    await list(otherOrg);
    await other.user.update({ where: { id: otherOrg.id }, data: { status: 'disabled' } });
    expectProblem(await list(otherOrg), 401);
  });

  it('pages after a cursor are read every time', async () => {
    const page = JSON.parse((await list(org, '?limit=1')).body) as FileList;
    expect(page.nextCursor).not.toBeNull();
    const next = await list(org, `?limit=1&cursor=${page.nextCursor}`);
    const [file] = (JSON.parse(next.body) as FileList).items;
    await other.encryptedFile.update({ where: { id: file!.id }, data: { filename: 'renamed-behind.txt' } });
    expect(names((await list(org, `?limit=1&cursor=${page.nextCursor}`)).body)).toEqual(['renamed-behind.txt']);
  });
});

describe('ListPageCache', () => {
  const page = (bytes: number) => Buffer.alloc(bytes, 0x61);

  it('serves a page only at the version it was kept at, and drops it on another', () => {
    const cache = new ListPageCache(1000);
    cache.set('k', 'v1', page(10));
    expect(cache.get('k', 'v1')?.length).toBe(10);
    expect(cache.get('k', null)).toBeUndefined();
    expect(cache.get('k', 'v2')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('k', 'v1')).toBeUndefined();
  });

  it('holds at most its byte budget, dropping the least recently used, and keeps no oversized page', () => {
    const cache = new ListPageCache(1000);
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) cache.set(key, 'v', page(120));
    expect(cache.bytes).toBe(960);
    cache.get('a', 'v');
    cache.set('i', 'v', page(120));
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(cache.get('a', 'v')).toBeDefined();
    expect(cache.get('b', 'v')).toBeUndefined();
    cache.set('big', 'v', page(126));
    expect(cache.get('big', 'v')).toBeUndefined();
    cache.set('a', 'v2', page(10));
    expect(cache.get('a', 'v')).toBeUndefined();
    expect(cache.bytes).toBe(7 * 120);
  });

  it('keys only an organization’s first pages, by owner, name, page size and filter', () => {
    const actor = { id: 'o1', role: 'organization', username: 'acme', ip: '::1', sessionFamily: null } as const;
    expect(ListPageCache.keyOf(actor, {})).not.toBeNull();
    expect(ListPageCache.keyOf(actor, { cursor: 'x' })).toBeNull();
    expect(ListPageCache.keyOf({ ...actor, role: 'consultant' }, {})).toBeNull();
    expect(ListPageCache.keyOf({ ...actor, role: 'admin' }, {})).toBeNull();
    const keys = [
      ListPageCache.keyOf(actor, {}),
      ListPageCache.keyOf(actor, { limit: 50 }),
      ListPageCache.keyOf(actor, { q: 'a' }),
      ListPageCache.keyOf({ ...actor, username: 'acme2' }, {}),
      ListPageCache.keyOf({ ...actor, id: 'o2' }, {}),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
