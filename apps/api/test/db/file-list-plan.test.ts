import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileListQuery, type FileListFilter } from '../../src/modules/files/files.repository.ts';
import { migratedSqlite, queryPlan } from '../helpers/sqlite-plan.ts';

// Every form of the file list's statement is answered off an index in its own order:
// a page costs the same with 50 files as with 500,000 (no sort of all of them).

let db: Database.Database;

beforeAll(async () => {
  db = await migratedSqlite();
});
afterAll(() => db.close());

const plan = (filter: FileListFilter) => queryPlan(db, fileListQuery(filter));

describe('the file list query plan (SQLite)', () => {
  const forms: Array<[string, FileListFilter]> = [
    ['an organization, first page', { owner: { id: 'o', username: 'org' }, limit: 50 }],
    ['an organization, next page', { owner: { id: 'o', username: 'org' }, limit: 50, cursor: 'c' }],
    ['an organization, by name', { owner: { id: 'o', username: 'org' }, limit: 50, q: 'report' }],
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
