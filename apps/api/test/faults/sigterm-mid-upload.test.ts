import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';
import { callJson, loginHttp, signUpHttp, slices, streamedMultipart, uploadFile, type HttpSession } from '../helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { blobFiles, eventually } from './blob-dir.ts';

// SIGTERM arrives while an upload is in flight. A graceful shutdown may finish the
// upload (201, and the file is really there afterwards) or abandon it (nothing
// stored); never half of each. The process exits 0 either way.

const SIZE = 32 * 1024 * 1024;

/** The data in slices, holding back the second half until `gate` opens. */
async function* gated(data: Buffer, gate: Promise<void>): AsyncGenerator<Buffer> {
  let sent = 0;
  for (const slice of slices(data)) {
    if (sent >= data.length / 2) await gate;
    sent += slice.length;
    yield slice;
  }
}

describe('faults: SIGTERM during an in-flight upload', () => {
  const env = { MASTER_KEY: randomBytes(32).toString('hex'), JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'info' };
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

  it('completes the upload or leaves nothing, and exits 0', { timeout: 180_000 }, async () => {
    const data = randomBytes(SIZE);
    const sha256 = createHash('sha256').update(data).digest('hex');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const multipart = streamedMultipart({ filename: 'inflight.bin', size: SIZE, source: () => gated(data, gate) });
    const upload = uploadFile(server!.url, org.accessToken, multipart).then(
      (result) => ({ status: result.status, file: result.status === 201 ? result.json<{ id: string; sha256: string }>() : undefined }),
      () => ({ status: 0, file: undefined }),
    );

    const partial = await eventually(() => blobFiles(dataDir), (files) => files.some((name) => name.endsWith('.partial')));
    expect(partial.some((name) => name.endsWith('.partial'))).toBe(true);
    const exited = server!.stop();
    // Only once the server has seen the signal does the rest of the body go out.
    const log = await eventually(async () => server!.log(), (text) => text.includes('shutting down'));
    expect(log).toContain('shutting down');
    open();

    const outcome = await upload;
    expect(await exited).toEqual({ code: 0, signal: null });
    expect([0, 201, 503]).toContain(outcome.status);

    server = await startServer({ dataDir, env });
    org = await loginHttp(server.url, org.username, org.password);
    const list = await callJson<{ items: Array<{ id: string; sha256: string }> }>(server.url, 'GET', '/api/v1/files', { token: org.accessToken });
    const blobs = await blobFiles(dataDir);
    if (outcome.file !== undefined) {
      expect(outcome.file.sha256).toBe(sha256);
      expect(list.body.items.map((item) => item.id)).toEqual([outcome.file.id]);
      expect(blobs).toHaveLength(1);
      const content = await fetch(`${server.url}/api/v1/files/${outcome.file.id}/content`, {
        headers: { authorization: `Bearer ${org.accessToken}` },
      });
      expect(content.status).toBe(200);
      expect(createHash('sha256').update(Buffer.from(await content.arrayBuffer())).digest('hex')).toBe(sha256);
    } else {
      expect(list.body.items).toEqual([]);
      expect(blobs).toEqual([]);
    }
  });
});
