import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import { expectProblem, freshIp, loginRaw, newUser, registerUser } from '../helpers/fixtures.ts';
import { repeated, streamedMultipart } from '../helpers/http-stream.ts';
import { blobFiles, eventually } from '../faults/blob-dir.ts';

/** Issue 9, items 5 and 12 (stalled uploads): expensive or stuck work cannot pile up. */
describe('bounded resources', () => {
  let t: TestApp;
  let org: Session;
  beforeAll(async () => {
    t = await buildTestApp({ config: { keygenConcurrency: 1, keygenQueue: 1, idleTimeoutMs: 1_000 } });
    org = await newUser(t.app, 'organization');
  });
  afterAll(() => t.cleanup());

  it('9.5: a burst of 4096-bit registrations gets 503 + Retry-After past the key generation queue; logins still answer', async () => {
    const { user, password } = await registerUser(t.app, 'consultant');
    const burst = Array.from({ length: 8 }, () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        remoteAddress: freshIp(),
        payload: { username: uniqueName('big'), password: 'correct horse battery staple', role: 'consultant', keySize: 4096 },
      }),
    );
    // While the burst runs, a login is not stuck behind it.
    const login = await loginRaw(t.app, user.username, password);
    expect(login.statusCode).toBe(200);
    const answers = await Promise.all(burst);
    const refused = answers.filter((r) => r.statusCode === 503);
    console.log(`4096-bit registrations: ${answers.filter((r) => r.statusCode === 201).length} created, ${refused.length} refused`);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const response of refused) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(answers.every((r) => r.statusCode === 201 || r.statusCode === 503)).toBe(true);
  });

  it('9.12: a stalled upload loses its connection and leaves no partial blob', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const size = 4 * 1024 * 1024;
    const multipart = streamedMultipart({ filename: 'stall.bin', size, source: () => repeated(randomBytes(256 * 1024), size) });
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
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
      if (written >= multipart.length / 4) break;
    }
    const during = await eventually(() => blobFiles(t.dataDir), (files) => files.some((name) => name.endsWith('.partial')));
    expect(during.some((name) => name.endsWith('.partial'))).toBe(true);
    // Then the client just stops sending, without closing.
    const closed = once(socket, 'close');
    await closed;
    const after = await eventually(() => blobFiles(t.dataDir), (files) => files.length === 0);
    expect(after).toEqual([]);
  });
});
