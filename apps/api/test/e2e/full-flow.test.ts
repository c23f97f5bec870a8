import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';
import { callJson, loginHttp, signUpHttp, slices, streamedMultipart, uploadFile, type HttpSession } from '../helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

// The whole product path on a real listening server with the real work factors:
// register, a 20 MiB streamed upload, request, approve, download, restart, download
// again; then nothing secret may be found at rest or in the server's output.

const SIZE = 20 * 1024 * 1024;
const WINDOW = 32;
const SAMPLED_WINDOWS = 24;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function downloadGrant(baseUrl: string, consultant: HttpSession, requestId: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${baseUrl}/api/v1/access-requests/${requestId}/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${consultant.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: consultant.password }),
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

describe('e2e: real server, 20 MiB through upload, grant, download and restart', () => {
  const masterKey = randomBytes(32).toString('hex');
  // The most verbose level an operator could pick: whatever any log line carries is scanned.
  const jwtSecret = randomBytes(32).toString('hex');
  const env = { MASTER_KEY: masterKey, JWT_SECRET: jwtSecret, LOG_LEVEL: 'trace' };
  const plaintext = randomBytes(SIZE);
  const expectedSha = sha256(plaintext);
  const logs: string[] = [];
  let dataDir: string;
  let server: ServerProcess | undefined;
  let org: HttpSession;
  let consultant: HttpSession;
  let fileId: string;
  let requestId: string;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    server = await startServer({ dataDir, env });
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers, uploads 20 MiB streamed, requests, approves and downloads the same bytes', async () => {
    const url = server!.url;
    org = await signUpHttp(url, 'organization');
    consultant = await signUpHttp(url, 'consultant');

    const multipart = streamedMultipart({
      fields: { description: 'quarterly figures' },
      filename: 'figures.bin',
      size: SIZE,
      source: () => slices(plaintext),
    });
    const upload = await uploadFile(url, org.accessToken, multipart);
    expect(upload.status, upload.body.toString()).toBe(201);
    const file = upload.json<{ id: string; size: number; sha256: string; filename: string }>();
    expect(file).toMatchObject({ size: SIZE, sha256: expectedSha, filename: 'figures.bin' });
    fileId = file.id;

    const request = await callJson<{ id: string; status: string }>(url, 'POST', `/api/v1/files/${fileId}/access-requests`, {
      token: consultant.accessToken,
      body: { reason: 'annual audit' },
    });
    expect(request.status, JSON.stringify(request.body)).toBe(201);
    requestId = request.body.id;

    // No download limit: the grant must still work after the restart below.
    const approve = await callJson<{ status: string; maxDownloads: number | null }>(url, 'POST', `/api/v1/access-requests/${requestId}/approve`, {
      token: org.accessToken,
      body: {},
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    expect(approve.body).toMatchObject({ status: 'approved', maxDownloads: null });

    const download = await downloadGrant(url, consultant, requestId);
    expect(download.status, download.body.subarray(0, 300).toString()).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(SIZE));
    expect(download.body.length).toBe(SIZE);
    expect(sha256(download.body)).toBe(expectedSha);
    expect(download.body.equals(plaintext)).toBe(true);
  });

  it('serves the same bytes after a graceful restart on the same DATA_DIR', async () => {
    const stopped = await server!.stop();
    logs.push(server!.log());
    expect(stopped).toEqual({ code: 0, signal: null });
    server = await startServer({ dataDir, env });
    const url = server.url;

    consultant = await loginHttp(url, consultant.username, consultant.password);
    const again = await downloadGrant(url, consultant, requestId);
    expect(again.status, again.body.subarray(0, 300).toString()).toBe(200);
    expect(sha256(again.body)).toBe(expectedSha);
    expect(again.body.equals(plaintext)).toBe(true);

    const own = await fetch(`${url}/api/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${org.accessToken}` } });
    expect(own.status).toBe(200);
    expect(sha256(Buffer.from(await own.arrayBuffer()))).toBe(expectedSha);

    const requests = await callJson<{ items: Array<{ id: string; downloadCount: number }> }>(url, 'GET', '/api/v1/access-requests', {
      token: consultant.accessToken,
    });
    expect(requests.body.items.find((item) => item.id === requestId)?.downloadCount).toBe(2);
  });

  it('leaves no plaintext window, password, key or token in DATA_DIR or in the server output', async () => {
    // Scanned while the server still runs, so the SQLite write-ahead log is there too.
    const files = await filesUnder(dataDir);
    const names = files.map((file) => path.relative(dataDir, file));
    expect(names).toEqual(expect.arrayContaining(['sfe.db', 'sfe.db-wal', 'keystore.db', 'keystore.db-wal']));
    expect(names.filter((name) => name.startsWith(`blobs${path.sep}`))).toHaveLength(1);

    const offsets = [0, SIZE - WINDOW, ...Array.from({ length: SAMPLED_WINDOWS }, () => randomInt(0, SIZE - WINDOW))];
    const needles: Array<{ what: string; bytes: Buffer }> = [
      ...offsets.map((offset) => ({ what: `plaintext[${offset}..+${WINDOW}]`, bytes: plaintext.subarray(offset, offset + WINDOW) })),
      { what: 'organization password', bytes: Buffer.from(org.password) },
      { what: 'consultant password', bytes: Buffer.from(consultant.password) },
      { what: 'MASTER_KEY (hex)', bytes: Buffer.from(masterKey) },
      { what: 'MASTER_KEY (HEX)', bytes: Buffer.from(masterKey.toUpperCase()) },
      { what: 'MASTER_KEY (raw)', bytes: Buffer.from(masterKey, 'hex') },
      { what: 'JWT_SECRET', bytes: Buffer.from(jwtSecret) },
      { what: "the organization's access token", bytes: Buffer.from(org.accessToken) },
      { what: "the consultant's access token", bytes: Buffer.from(consultant.accessToken) },
    ];

    const found: string[] = [];
    let scannedBytes = 0;
    let usernameSeen = false;
    for (const file of files) {
      const content = await readFile(file);
      scannedBytes += content.length;
      usernameSeen ||= content.includes(consultant.username);
      for (const needle of needles) {
        if (content.includes(needle.bytes)) found.push(`${needle.what} in ${path.relative(dataDir, file)}`);
      }
    }
    // The scan reads what the server stored: the consultant's name is in the app DB.
    expect(usernameSeen).toBe(true);
    expect(scannedBytes).toBeGreaterThan(SIZE);

    const stopped = await server!.stop();
    expect(stopped.code).toBe(0);
    logs.push(server!.log());
    const output = Buffer.from(logs.join('\n'));
    // The output is real: both runs logged their start-up and requests.
    expect(output.toString()).toContain('/api/v1/access-requests');
    for (const needle of needles) {
      if (output.includes(needle.bytes)) found.push(`${needle.what} in the server output`);
    }
    expect(found).toEqual([]);
  });
});
