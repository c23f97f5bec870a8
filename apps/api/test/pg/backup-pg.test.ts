import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPrismaClient } from '../../src/db/client.ts';
import { buildTestApp, makeDataDir } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { testDatabaseUrl } from '../helpers/database.ts';
import { approve, downloadRaw, loginAs, newUser, PASSWORD, requestAccess, sha256, uploadFile } from '../helpers/fixtures.ts';

const MASTER_KEY = randomBytes(32).toString('hex');
const JWT_SECRET = randomBytes(32).toString('hex');
// Signs the audit checkpoints; the restored installation verifies them with the same key.
const AUDIT_SIGNING_KEY = randomBytes(32).toString('hex');
const PASSPHRASE = 'a backup passphrase, long enough';

/**
 * `sfe backup` of an installation on PostgreSQL, taken while uploads are in flight: the
 * archive's database part is one consistent SQLite copy of the live database. The drill
 * restores it into a fresh directory, moves it onto a new PostgreSQL database with
 * `sfe db copy`, and the server started there serves every file and the grant.
 */
describe('backup and restore of a PostgreSQL installation', () => {
  it('backs up while uploads run, restores, copies onto PostgreSQL, and every file and grant still opens', { timeout: 300_000 }, async () => {
    const env = { MASTER_KEY, JWT_SECRET, AUDIT_SIGNING_KEY };
    const source = await buildTestApp({ env });
    const work = await makeDataDir();
    const archive = path.join(work, 'pg.sfebak');
    const restoredDir = path.join(work, 'restored');
    try {
      expect(source.config.databaseUrl).toMatch(/^postgresql:/);
      const org = await newUser(source.app, 'organization');
      const con = await newUser(source.app, 'consultant');
      const files = new Map<string, string>();
      for (const size of [0, 1, 70_000, 1_500_000]) {
        const data = randomBytes(size);
        files.set((await uploadFile(source.app, org, { data, filename: `f-${size}.bin` })).id, sha256(data));
      }
      const granted = [...files.keys()][2] as string;
      const request = await approve(source.app, org, (await requestAccess(source.app, con, granted)).id);

      const late = Array.from({ length: 3 }, async (_, i) => {
        const data = randomBytes(300_000 + i);
        return { id: (await uploadFile(source.app, org, { data, filename: `late-${i}.bin` })).id, sha: sha256(data) };
      });
      const [backup, lateFiles] = await Promise.all([
        sfe(['backup', '--out', archive, '--passphrase-stdin', '--json'], { DATA_DIR: source.dataDir, ...env }, `${PASSPHRASE}\n${PASSPHRASE}\n`),
        Promise.all(late),
      ]);
      expect(backup.code, backup.stderr).toBe(0);
      const summary = JSON.parse(backup.stdout) as { files: number; users: number };
      // Whatever the snapshot caught of the late uploads, it caught whole files only.
      expect(summary.files).toBeGreaterThanOrEqual(files.size);
      expect(summary.files).toBeLessThanOrEqual(files.size + lateFiles.length);
      expect(summary.users).toBe(2);

      const restored = await sfe(['restore', '--in', archive, '--data-dir', restoredDir, '--passphrase-stdin', '--json'], { DATA_DIR: source.dataDir, ...env }, `${PASSPHRASE}\n`);
      expect(restored.code, restored.stderr).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({ files: summary.files, verify: { checked: summary.files, ok: true } });

      const target = testDatabaseUrl(restoredDir);
      if (!target) throw new Error('the api-pg project provides the server');
      const copy = await sfe(['db', 'copy', '--from', `file:${path.join(restoredDir, 'sfe.db')}`, '--to', target, '--json'], { DATA_DIR: restoredDir, ...env });
      expect(copy.code, copy.stderr).toBe(0);
      expect(JSON.parse(copy.stdout)).toMatchObject({ countsMatch: true, auditChain: { ok: true } });

      const back = await buildTestApp({ dataDir: restoredDir, env });
      try {
        expect(back.config.databaseUrl).toBe(target);
        const orgAgain = await loginAs(back.app, org.username, PASSWORD);
        for (const [id, sha] of files) {
          const answer = await back.app.inject({ method: 'GET', url: `/api/v1/files/${id}/content`, headers: orgAgain.headers });
          expect(answer.statusCode).toBe(200);
          expect(sha256(answer.rawPayload)).toBe(sha);
        }
        const prisma = createPrismaClient(target);
        const present = new Set((await prisma.encryptedFile.findMany({ where: { deletedAt: null }, select: { id: true } })).map((f) => f.id));
        await prisma.$disconnect();
        expect(present.size).toBe(summary.files);
        for (const { id, sha } of lateFiles.filter((f) => present.has(f.id))) {
          const answer = await back.app.inject({ method: 'GET', url: `/api/v1/files/${id}/content`, headers: orgAgain.headers });
          expect(sha256(answer.rawPayload)).toBe(sha);
        }
        const conAgain = await loginAs(back.app, con.username, PASSWORD);
        const download = await downloadRaw(back.app, conAgain, request.id, PASSWORD);
        expect(download.statusCode).toBe(200);
        expect(sha256(download.rawPayload)).toBe(files.get(granted));
      } finally {
        await back.close();
      }
      const verify = await sfe(['audit', 'verify', '--json'], { DATA_DIR: restoredDir, ...env });
      expect(verify.code, verify.stdout).toBe(0);
    } finally {
      await source.cleanup();
    }
  });
});
