import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { collectBlob, createApiClient, parseContentDisposition, pipeToWritable, type TransferProgress } from '../src/index.ts';
import { sendJson, startTestServer } from './server.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('upload (fetch transport)', () => {
  it('sends text fields before the file part, with the bearer token', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 201, { id: 'f1', filename: 'report.pdf' }));
    close = server.close;
    const client = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => 'tok' });
    const bytes = randomBytes(5000);
    const progress: TransferProgress[] = [];
    const created = await client.files.upload(
      new Blob([bytes], { type: 'application/pdf' }),
      { algorithm: 'chacha20-poly1305', description: 'Q3 numbers' },
      { filename: 'report.pdf', onProgress: (p) => progress.push(p) },
    );
    expect(created).toMatchObject({ id: 'f1' });
    const req = server.requests[0];
    expect(req?.url).toBe('/api/v1/files');
    expect(req?.headers.authorization).toBe('Bearer tok');
    expect(req?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const raw = req?.body.toString('latin1') ?? '';
    const algorithmAt = raw.indexOf('name="algorithm"');
    const descriptionAt = raw.indexOf('name="description"');
    const fileAt = raw.indexOf('name="file"; filename="report.pdf"');
    expect(algorithmAt).toBeGreaterThan(-1);
    expect(descriptionAt).toBeGreaterThan(algorithmAt);
    expect(fileAt).toBeGreaterThan(descriptionAt);
    expect(req?.body.includes(bytes)).toBe(true);
    expect(progress.at(-1)).toEqual({ loaded: 5000, total: 5000 });
  });
});

describe('download', () => {
  const payload = randomBytes(300_000);

  async function fileServer(opts: { length?: number } = {}) {
    const server = await startTestServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(opts.length ?? payload.length),
        'content-disposition': `attachment; filename="r_sum_.bin"; filename*=UTF-8''r%C3%A9sum%C3%A9.bin`,
      });
      // Several writes, so the client sees several chunks.
      for (let i = 0; i < payload.length; i += 65_536) res.write(payload.subarray(i, i + 65_536));
      res.end();
    });
    close = server.close;
    return server;
  }

  it('streams the consultant download with progress and the server-given name', async () => {
    const server = await fileServer();
    const client = createApiClient({ baseUrl: server.baseUrl, getAccessToken: () => 'tok' });
    const download = await client.accessRequests.download('req-1', 'correct horse battery');
    expect(download.filename).toBe('résumé.bin');
    expect(download.size).toBe(payload.length);
    const progress: TransferProgress[] = [];
    const blob = await collectBlob(download, { onProgress: (p) => progress.push(p) });
    expect(Buffer.from(await blob.arrayBuffer()).equals(payload)).toBe(true);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ loaded: payload.length, total: payload.length });
    expect(server.requests[0]?.method).toBe('POST');
  });

  it('pipes the owner download into a WritableStream and closes it', async () => {
    const server = await fileServer();
    const client = createApiClient({ baseUrl: server.baseUrl });
    const download = await client.files.download('f1', { range: { start: 0 } });
    const chunks: Uint8Array[] = [];
    let closed = false;
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => void chunks.push(chunk),
      close: () => {
        closed = true;
      },
    });
    await expect(pipeToWritable(download, writable)).resolves.toBe(payload.length);
    expect(closed).toBe(true);
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(server.requests[0]?.url).toBe('/api/v1/files/f1/content');
    expect(server.requests[0]?.headers.range).toBe('bytes=0-');
  });

  it('stops reading when cancelled', async () => {
    const server = await fileServer();
    const client = createApiClient({ baseUrl: server.baseUrl });
    const download = await client.files.download('f1');
    const controller = new AbortController();
    const result = collectBlob(download, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('parseContentDisposition', () => {
  it.each([
    ['attachment; filename="a.txt"', 'a.txt'],
    ["attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", '€ rates.txt'],
    ['attachment; filename="../../etc/passwd"', '.._.._etc_passwd'],
    ["attachment; filename*=UTF-8''..%2F..%2Fx", '.._.._x'],
    ['attachment; filename=".."', null],
    ['attachment', null],
    [null, null],
  ])('%s -> %s', (header, expected) => {
    expect(parseContentDisposition(header)).toBe(expected);
  });
});
