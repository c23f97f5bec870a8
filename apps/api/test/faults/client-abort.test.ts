import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, multipartBody, signUp, type Session, type TestApp } from '../helpers/app.ts';
import { repeated, streamedMultipart } from '../helpers/http-stream.ts';
import { blobFiles, eventually } from './blob-dir.ts';

// A client that goes away halfway through an upload, on a real socket: the server
// must keep neither a file row nor any blob (committed or partial).

const SIZE = 16 * 1024 * 1024;

describe('faults: the client aborts an upload halfway', () => {
  let t: TestApp;
  let org: Session;
  let port: number;

  beforeAll(async () => {
    t = await buildTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    org = await signUp(t.app, 'organization');
  });
  afterAll(async () => t.cleanup());

  it('keeps no row and no blob after the socket is destroyed mid-body', async () => {
    const multipart = streamedMultipart({ filename: 'half.bin', size: SIZE, source: () => repeated(randomBytes(1024 * 1024), SIZE) });
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    let answered = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      answered += chunk;
    });
    socket.on('error', () => {});
    socket.write(
      'POST /api/v1/files HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\n` +
        `Authorization: ${org.headers.authorization}\r\n` +
        `Content-Type: ${multipart.headers['content-type']}\r\n` +
        `Content-Length: ${multipart.length}\r\n\r\n`,
    );
    let written = 0;
    for await (const chunk of multipart.body()) {
      const buffer = chunk as Buffer;
      if (!socket.write(buffer)) await once(socket, 'drain');
      written += buffer.length;
      if (written >= multipart.length / 2) break;
    }
    // The server really is mid-upload: it has a partial blob on disk.
    const during = await eventually(() => blobFiles(t.dataDir), (files) => files.some((name) => name.endsWith('.partial')));
    expect(during.some((name) => name.endsWith('.partial'))).toBe(true);

    socket.destroy();
    const after = await eventually(() => blobFiles(t.dataDir), (files) => files.length === 0);
    expect(after).toEqual([]);
    // Settled, not just momentarily empty.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await blobFiles(t.dataDir)).toEqual([]);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: org.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([]);
    // The server never answered (say, with an early 201): the client went away first.
    expect(answered).toBe('');
  });

  it('still accepts the next upload afterwards', async () => {
    const body = multipartBody([{ name: 'file', filename: 'next.bin', data: randomBytes(50_000) }]);
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload });
    expect(response.statusCode, response.body).toBe(201);
    const files = await blobFiles(t.dataDir);
    expect(files).toHaveLength(1);
    expect(files[0]?.endsWith('.partial')).toBe(false);
  });
});
