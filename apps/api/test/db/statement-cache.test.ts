import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheStatements } from '../../src/db/statement-cache.ts';

// The adapter's calling pattern, prepare(sql).bind(args) then reader/columns/raw().all()
// or run(), over a real SQLite file with cached statements.

let tmp: string;
let db: Database.Database;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sfe-stmt-cache-'));
  db = new Database(path.join(tmp, 'cache.db'));
  db.defaultSafeIntegers(true);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  cacheStatements(db, 4);
});
afterAll(async () => {
  db.close();
  await rm(tmp, { recursive: true, force: true });
});

const insert = (id: number, name: string) => db.prepare('INSERT INTO t (id, name) VALUES (?, ?)').bind([id, name]).run();
const select = (id: number) => {
  const statement = db.prepare('SELECT id, name FROM t WHERE id = ?').bind([id]);
  return { reader: statement.reader, columns: statement.columns().map((c) => c.name), rows: statement.raw().all() };
};

describe('cached statements', () => {
  it('answer each call with its own arguments, not the first call\'s', () => {
    expect(insert(1, 'one').changes).toBe(1);
    expect(insert(2, 'two').changes).toBe(1);
    expect(select(1)).toEqual({ reader: true, columns: ['id', 'name'], rows: [[1n, 'one']] });
    expect(select(2).rows).toEqual([[2n, 'two']]);
    expect(select(3).rows).toEqual([]);
  });

  it('hand back the same compiled statement for the same SQL', () => {
    expect(db.prepare('SELECT name FROM t WHERE id = ?')).toBe(db.prepare('SELECT name FROM t WHERE id = ?'));
    expect(db.prepare('SELECT name FROM t WHERE id = ?')).not.toBe(db.prepare('SELECT id FROM t WHERE id = ?'));
  });

  it('keep working past the capacity (least recently used evicted) and for statements without bind', () => {
    for (let i = 0; i < 20; i++) {
      const rows = db.prepare(`SELECT name FROM t WHERE id = ? AND ${i} = ${i}`).bind([1]).raw().all();
      expect(rows).toEqual([['one']]);
    }
    db.prepare('BEGIN').run();
    insert(3, 'three');
    db.prepare('ROLLBACK').run();
    expect(select(3).rows).toEqual([]);
  });

  it('still raise SQLite errors from the call that fails', () => {
    expect(() => insert(1, 'duplicate')).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(select(1).rows).toEqual([[1n, 'one']]);
  });
});
