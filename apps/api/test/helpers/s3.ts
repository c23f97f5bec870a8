import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort } from './free-port.ts';

// A real S3-protocol server for the S3 blob store tests: s3rver 3 (npm), in process,
// on a free loopback port, storing objects in a temp directory. It speaks SigV4,
// path-style addressing, ranged GETs, multipart uploads and deletes.
//
// s3rver 3 answers AbortMultipartUpload and ListMultipartUploads with
// MethodNotAllowed/NotImplemented. The two handlers below fill them in over
// s3rver's own upload layout (<dir>/<bucket>/._S3rver_uploads/<uploadId>/{key,<part>}),
// so the adapter's abort and sweep run the same requests they send to S3 and MinIO,
// and `pendingUploads` can look at what the server really still holds.

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const S3_REGION = 'us-east-1';

export interface S3Server {
  endpoint: string;
  directory: string;
  /** A fresh, empty bucket. */
  createBucket(name?: string): Promise<string>;
  /** Object keys of the multipart uploads the server still holds for the bucket (neither completed nor aborted). */
  pendingUploads(bucket: string): Promise<string[]>;
  close(): Promise<void>;
}

let bucketCounter = 0;

export async function startS3(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'sfe-s3rver-'));
  const port = await freePort();
  const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory });
  const uploadsDir = (bucket: string): string => join(directory, bucket, '._S3rver_uploads');

  // Before s3rver's router (the last middleware), after its logging, XML encoding and vhost handling.
  server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.split('/').filter(Boolean);
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
    if (ctx.method === 'DELETE' && bucket && keyParts.length > 0 && uploadId !== undefined) {
      if (!/^[0-9a-f]{32}$/.test(uploadId)) throw new Error('bad upload id');
      await rm(join(uploadsDir(bucket), uploadId), { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return;
    }
    if (ctx.method === 'GET' && bucket && keyParts.length === 0 && 'uploads' in ctx.query) {
      const uploads = [];
      for (const id of await readdir(uploadsDir(bucket)).catch(() => [])) {
        const dir = join(uploadsDir(bucket), id);
        uploads.push({ Key: await readFile(join(dir, 'key'), 'utf8'), UploadId: id, Initiated: (await stat(dir)).birthtime.toISOString() });
      }
      ctx.body = { ListMultipartUploadsResult: { Bucket: bucket, IsTruncated: false, Upload: uploads } };
      return;
    }
    await next();
  });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS });

  return {
    endpoint,
    directory,
    async createBucket(name) {
      bucketCounter += 1;
      const bucket = name ?? `sfe-test-${process.pid}-${bucketCounter}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async pendingUploads(bucket) {
      const ids = await readdir(uploadsDir(bucket)).catch(() => []);
      return Promise.all(ids.map((id) => readFile(join(uploadsDir(bucket), id, 'key'), 'utf8')));
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
