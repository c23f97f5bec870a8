import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Fastify from 'fastify';
import multipart from '@fastify/multipart';

// The ceiling the HTTP bench compares SFE against: the same framework and multipart
// parser, the same 1 MiB write buffer and fsync-before-close as the blob store, but
// no auth, no database and no encryption. Started by the bench as a child process,
// like the real server, so both are measured the same way.

const dataDir = process.env.DATA_DIR ?? '';
if (dataDir === '') throw new Error('DATA_DIR is required');
const WRITE_HIGH_WATER_MARK = 1024 * 1024;
const NAME = /^blob-\d+$/;

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
await app.register(multipart, { limits: { fileSize: 4 * 1024 ** 3, files: 1 } });
let counter = 0;

app.get('/healthz', async () => ({ status: 'ok' }));

// The JSON ceiling: the shape of SFE's GET /api/v1/files?limit=50 (50 FileMetadata items and
// a cursor), built once, so what is left is routing and serialization.
const LIST_ITEMS = 50;
const fileList = {
  items: Array.from({ length: LIST_ITEMS }, (_, i) => ({
    id: randomUUID(),
    filename: `bench-${i}.bin`,
    contentType: 'application/octet-stream',
    size: 1024,
    sha256: randomBytes(32).toString('hex'),
    algorithm: 'aes-256-gcm',
    description: null,
    ownerId: randomUUID(),
    ownerName: 'org-bench',
    createdAt: new Date().toISOString(),
  })),
  nextCursor: randomUUID(),
};
app.get('/api/v1/files', async () => fileList);

app.post('/files', async (request, reply) => {
  const file = await request.file();
  if (file === undefined) return reply.code(400).send({ error: 'file part required' });
  const name = `blob-${counter++}`;
  const out = createWriteStream(path.join(dataDir, name), { highWaterMark: WRITE_HIGH_WATER_MARK, flush: true });
  await pipeline(file.file, out);
  return reply.code(201).send({ id: name, size: out.bytesWritten });
});

app.get<{ Params: { id: string } }>('/files/:id/content', async (request, reply) => {
  if (!NAME.test(request.params.id)) return reply.code(404).send();
  const file = path.join(dataDir, request.params.id);
  const { size } = await stat(file);
  return reply.header('content-type', 'application/octet-stream').header('content-length', String(size)).send(createReadStream(file));
});

app.delete<{ Params: { id: string } }>('/files/:id', async (request, reply) => {
  if (!NAME.test(request.params.id)) return reply.code(404).send();
  await unlink(path.join(dataDir, request.params.id));
  return reply.code(204).send();
});

const shutdown = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
