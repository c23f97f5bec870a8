import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStateQuery } from '../../src/modules/auth/session-state.repository.ts';
import { bindable, migratedSqlite, queryPlan } from '../helpers/sqlite-plan.ts';

// The session check runs on every authenticated request. Its cost must not grow with the
// account's history: the session's tokens are found by their family, not by walking every
// token the user ever had (each sign-in and each refresh adds one).

let db: Database.Database;

beforeAll(async () => {
  db = await migratedSqlite();
});
afterAll(() => db.close());

const query = () => sessionStateQuery('user-id', 'family-id', new Date());
const statement = () => bindable(query());
const plan = (): string[] => queryPlan(db, query());

describe('the session check query plan (SQLite)', () => {
  it('finds the session by (family_id, user_id), and nothing is scanned', () => {
    const steps = plan();
    expect(steps).toContainEqual(expect.stringMatching(/SEARCH t USING INDEX refresh_tokens_family_id_user_id_idx \(family_id=\? AND user_id=\?\)/));
    expect(steps).toContainEqual(expect.stringMatching(/SEARCH u USING .*INDEX sqlite_autoindex_users_1 \(id=\?\)/));
    for (const step of steps) expect(step).not.toMatch(/^SCAN /);
  });

  it('among 20,000 earlier tokens, answers for exactly the token\'s own session', () => {
    db.prepare(
      "INSERT INTO users (id, username, username_key, password_hash, role, updated_at) VALUES ('user-id', 'alice', 'alice', 'x', 'organization', '2026-01-01')",
    ).run();
    const insert = db.prepare(
      "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) VALUES (?, 'user-id', ?, ?, '2999-01-01T00:00:00.000+00:00')",
    );
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) insert.run(`old-${i}`, `old-family-${i >> 3}`, `old-hash-${i}`);
      insert.run('current', 'family-id', 'current-hash');
    })();
    const { sql, values } = statement();
    const live = () => (db.prepare(sql).get(...values) as { session_live: number }).session_live;
    expect(live()).toBe(1);
    db.prepare("UPDATE refresh_tokens SET revoked_at = '2026-01-01T00:00:00.000+00:00' WHERE family_id = 'family-id'").run();
    // Other sessions of the same account are still live; this one is not.
    expect(live()).toBe(0);
    expect(plan().join(' | ')).toMatch(/refresh_tokens_family_id_user_id_idx/);
  });
});
