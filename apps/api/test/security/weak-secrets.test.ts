import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** Issue 9.4: secrets that pass a length check but were typed by hand stop start-up, naming the rule. */
describe('weak secrets in production', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sfe-secrets-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const goodKey = randomBytes(32).toString('hex');
  const goodSecret = randomBytes(32).toString('base64url');
  const messageOf = (env: Record<string, string>): string => {
    try {
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dir, MASTER_KEY: goodKey, JWT_SECRET: goodSecret, AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'), ...env }, dir);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    return 'started';
  };

  it.each([
    ['32 zeros', '0'.repeat(32), /JWT_SECRET is not random: it has too few distinct bytes/],
    ['44 x a', 'a'.repeat(44), /JWT_SECRET is not random: it has too few distinct bytes/],
    ['a word repeated', 'passwordpasswordpasswordpassword', /JWT_SECRET is not random: it (has too few distinct bytes|repeats a pattern)/],
    ['a dictionary phrase', 'correcthorsebatterystaplecorrect', /JWT_SECRET is not random: it (repeats a pattern|is too easy to guess)/],
  ])('rejects JWT_SECRET %s', (_name, secret, message) => {
    const text = messageOf({ JWT_SECRET: secret });
    expect(text).toMatch(message);
    expect(text).not.toContain(secret);
  });

  it.each([
    ['ab x 32', 'ab'.repeat(32), /MASTER_KEY is not random: it has too few distinct bytes/],
    ['0123456789abcdef x 4', '0123456789abcdef'.repeat(4), /MASTER_KEY is not random: it (has too few distinct bytes|repeats a pattern)/],
    ['a 16-byte pattern twice', randomBytes(16).toString('hex').repeat(2), /MASTER_KEY is not random: it (has too few distinct bytes|repeats a pattern of 16 byte)/],
  ])('rejects MASTER_KEY %s', (_name, key, message) => {
    const text = messageOf({ MASTER_KEY: key });
    expect(text).toMatch(message);
    expect(text).not.toContain(key);
  });

  it('starts with random secrets', () => {
    expect(messageOf({})).toBe('started');
    expect(messageOf({ JWT_SECRET: randomBytes(32).toString('hex') })).toBe('started');
  });
});
