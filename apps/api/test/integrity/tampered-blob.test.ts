import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SIZE, HEADER_LENGTH } from '@sfe/crypto';
import { createPrismaClient } from '../../src/db/client.ts';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { buildTestApp, multipartBody, signUp, type Session, type TestApp } from '../helpers/app.ts';

const SEGMENT = DEFAULT_SEGMENT_SIZE;

/** GET over a real socket: how many bytes arrived before the server gave up, and how it ended. */
function fetchRaw(url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a blob altered at rest is never served as if it were intact', () => {
  let t: TestApp;
  let org: Session;
  let baseUrl: string;
  const data = randomBytes(5 * SEGMENT + 1234);

  beforeAll(async () => {
    t = await buildTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    org = await signUp(t.app, 'organization');
  });
  afterAll(async () => t.cleanup());

  /** Uploads, then flips one byte inside the ciphertext of the fourth segment (index 3). */
  async function uploadAndTamper(offsetInSegment: number): Promise<string> {
    const body = multipartBody([{ name: 'file', filename: 'ledger.bin', data }]);
    const file = (await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: { ...org.headers, ...body.headers }, payload: body.payload })).json();
    const prisma = createPrismaClient(t.config.databaseUrl);
    const row = await prisma.encryptedFile.findUniqueOrThrow({ where: { id: file.id }, select: { blobKey: true } });
    await prisma.$disconnect();
    const blob = path.join(t.dataDir, 'blobs', row.blobKey);
    const bytes = await readFile(blob);
    const position = HEADER_LENGTH + 3 * (SEGMENT + 16) + offsetInSegment;
    bytes[position] = (bytes[position] ?? 0) ^ 0x01;
    await writeFile(blob, bytes);
    return file.id as string;
  }

  it('stops the download at the damaged segment and audits the failure', async () => {
    const fileId = await uploadAndTamper(100);
    const response = await fetchRaw(`${baseUrl}/api/v1/files/${fileId}/content`, org.headers);
    // Headers went out with the first segment; the damaged one ends the stream early.
    expect(response.complete).toBe(false);
    expect(response.body.length).toBeLessThan(data.length);
    expect(data.subarray(0, response.body.length).equals(response.body)).toBe(true);
    expect(response.body.length).toBeLessThanOrEqual(3 * SEGMENT);

    const prisma = createPrismaClient(t.config.databaseUrl);
    try {
      await expect
        .poll(async () => (await createAuditRepository(prisma).list({ operation: 'file_decrypted' })).some((r) => !r.success && r.details.includes(fileId)))
        .toBe(true);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('refuses a range that touches the damaged segment, and serves one that does not', async () => {
    const fileId = await uploadAndTamper(200);
    const bad = await fetchRaw(`${baseUrl}/api/v1/files/${fileId}/content`, { ...org.headers, range: `bytes=${3 * SEGMENT + 10}-${3 * SEGMENT + 20}` });
    expect(bad.complete && bad.body.length === 11).toBe(false);
    const good = await fetchRaw(`${baseUrl}/api/v1/files/${fileId}/content`, { ...org.headers, range: `bytes=${SEGMENT}-${2 * SEGMENT - 1}` });
    expect(good.status).toBe(206);
    expect(good.body.equals(data.subarray(SEGMENT, 2 * SEGMENT))).toBe(true);
  });
});
