import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { fileListQuery, type FileListFilter } from '../../src/modules/files/files.repository.ts';
import { makeDataDir } from '../helpers/app.ts';

// Every form of the file list's statement is answered off an index in its own order:
// a page costs the same with 50 files as with 500,000 (no sort of all of them).

let db: Database.Database;

beforeAll(async () => {
  const dataDir = await makeDataDir();
  const file = path.join(dataDir, 'sfe.db');
  await applyMigrations({ databaseUrl: `file:${file}` });
  db = new Database(file);
});
afterAll(() => db.close());

const plan = (filter: FileListFilter) => {
  const query = fileListQuery(filter);
  const values = query.values.map((value) => (value instanceof Date ? value.toISOString() : value));
  return (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...values) as Array<{ detail: string }>).map((row) => row.detail);
};

describe('the file list query plan (SQLite)', () => {
  const forms: Array<[string, FileListFilter]> = [
    ['an organization, first page', { ownerId: 'o', limit: 50 }],
    ['an organization, next page', { ownerId: 'o', limit: 50, cursor: 'c' }],
    ['an organization, by name', { ownerId: 'o', limit: 50, q: 'report' }],
    ['every file (consultants, admins)', { limit: 50 }],
    ['every file, next page', { limit: 50, cursor: 'c' }],
  ];
  for (const [name, filter] of forms) {
    it(`${name}: read in index order, no temporary sort`, () => {
      const steps = plan(filter);
      expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/);
      expect(steps.some((step) => /(SCAN|SEARCH) f USING INDEX encrypted_files_(owner_id_)?created_at_id_idx/.test(step))).toBe(true);
    });
  }
});
