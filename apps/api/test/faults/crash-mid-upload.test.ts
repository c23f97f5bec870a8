import { createHash, randomBytes } from 'node:crypto';
import { rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';
import { callJson, loginHttp, repeated, signUpHttp, slices, streamedMultipart, uploadFile, type HttpSession } from '../helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { blobFiles, blobsDir, eventually } from './blob-dir.ts';

// The server process dies (SIGKILL) in the middle of a large upload. After a
// restart on the same DATA_DIR nothing of that upload may remain, and uploads work.

const LARGE = 1024 * 1024 * 1024;
const SEEN_BYTES = 8 * 1024 * 1024;

describe('faults: the server is killed mid-upload', () => {
  const env = { MASTER_KEY: randomBytes(32).toString('hex'), JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
  let dataDir: string;
  let server: ServerProcess | undefined;
  let org: HttpSession;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    server = await startServer({ dataDir, env });
    org = await signUpHttp(server.url, 'organization');
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no partial or orphan blob after a restart, and the next upload works', { timeout: 180_000 }, async () => {
    const multipart = streamedMultipart({ filename: 'huge.bin', size: LARGE, source: () => repeated(randomBytes(1024 * 1024), LARGE) });
    const upload = uploadFile(server!.url, org.accessToken, multipart).then(
      (result) => ({ status: result.status }),
      (error: unknown) => ({ error }),
    );

    // Kill only once the server has really written part of the blob.
    const partialSize = async () => {
      const partial = (await blobFiles(dataDir)).find((name) => name.endsWith('.partial'));
      if (partial === undefined) return 0;
      return stat(path.join(blobsDir(dataDir), partial)).then((info) => info.size, () => 0);
    };
    expect(await eventually(partialSize, (size) => size >= SEEN_BYTES, 60_000)).toBeGreaterThanOrEqual(SEEN_BYTES);
    expect(await server!.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await upload).toHaveProperty('error');

    const left = await blobFiles(dataDir);
    expect(left.filter((name) => name.endsWith('.partial'))).toHaveLength(1);
    // The other crash window: a blob committed (linked) whose row was never written.
    // Same shape as a real blob key, dated before the restart.
    const orphan = randomBytes(16).toString('base64url');
    await writeFile(path.join(blobsDir(dataDir), orphan), randomBytes(4096), { mode: 0o600 });
    const past = new Date(Date.now() - 60_000);
    await utimes(path.join(blobsDir(dataDir), orphan), past, past);

    server = await startServer({ dataDir, env });
    expect(await blobFiles(dataDir)).toEqual([]);
    org = await loginHttp(server.url, org.username, org.password);
    const list = await callJson<{ items: unknown[] }>(server.url, 'GET', '/api/v1/files', { token: org.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);

    const data = randomBytes(3 * 1024 * 1024 + 17);
    const next = await uploadFile(
      server.url,
      org.accessToken,
      streamedMultipart({ filename: 'after.bin', size: data.length, source: () => slices(data) }),
    );
    expect(next.status, next.body.toString()).toBe(201);
    const file = next.json<{ id: string; sha256: string }>();
    expect(file.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const content = await fetch(`${server.url}/api/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${org.accessToken}` } });
    expect(content.status).toBe(200);
    expect(Buffer.from(await content.arrayBuffer()).equals(data)).toBe(true);
    const blobs = await blobFiles(dataDir);
    expect(blobs).toHaveLength(1);
    expect(blobs[0]?.endsWith('.partial')).toBe(false);
  });
});
