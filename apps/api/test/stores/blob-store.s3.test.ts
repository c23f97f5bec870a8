import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/stores/blobstore/index.ts';
import { createS3BlobStore } from '../../src/stores/blobstore/s3-blob-store.ts';
import { S3_CREDENTIALS, S3_REGION, startS3, type S3Server } from '../helpers/s3.ts';
import { blobStoreContract } from './blob-store.contract.ts';

let server: S3Server;
let client: S3Client;
let bucket = '';
const opened: { close(): void }[] = [];

beforeAll(async () => {
  server = await startS3();
  client = new S3Client({ endpoint: server.endpoint, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS });
});
afterAll(async () => {
  for (const store of opened) store.close();
  client.destroy();
  await server.close();
});

function open(bucketName: string): BlobStore {
  const store = createS3BlobStore({ endpoint: server.endpoint, region: S3_REGION, bucket: bucketName, forcePathStyle: true, credentials: S3_CREDENTIALS });
  opened.push(store);
  return store;
}

async function objectKeys(bucketName: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucketName }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

blobStoreContract('s3 (s3rver)', {
  async open() {
    bucket = await server.createBucket();
    return open(bucket);
  },
  async list() {
    const pending = await server.pendingUploads(bucket);
    return [...(await objectKeys(bucket)), ...pending.map((key) => `${key}.partial`)];
  },
  async putForeign(name, data) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: name, Body: data }));
  },
});

describe('s3 blob store', () => {
  it('fails with the store error, not a key name or credential, when the bucket is missing', async () => {
    const store = open('no-such-bucket');
    const writer = store.createWriter(store.newKey());
    writer.stream.end(Buffer.from('x'));
    const error = await writer.commit().then(
      () => null,
      (caught: unknown) => caught as Error,
    );
    expect(error?.name).toBe('NoSuchBucket');
    expect(String(error?.message)).not.toContain(S3_CREDENTIALS.secretAccessKey);
    await writer.abort();
  });
});
