import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { BlobExistsError, BlobNotFoundError, assertBlobKey, isBlobKey, type BlobStore, type BlobWriter } from './blob-store.ts';

// Objects are '<key>' in one bucket. A blob is written as a multipart upload whose
// parts are invisible to readers; CompleteMultipartUpload in commit() is the one
// moment it appears (the S3 counterpart of the fs adapter's link). A blob smaller
// than one part never starts a multipart upload: it is held (under PART_SIZE) and
// sent as one PutObject at commit. abort() before commit aborts the upload, so no
// part is left billed and invisible; sweep() aborts uploads a crash left behind.
//
// Why not @aws-sdk/lib-storage's Upload: it completes the object as soon as its
// body ends, before the caller has checked what it received, so a rejected upload
// would be visible (and then deleted) instead of never appearing.

/** S3's minimum for every part but the last is 5 MiB; 8 MiB halves the request count. */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight per writer: memory per upload is at most (1 + this) x PART_SIZE. */
const PARTS_IN_FLIGHT = 2;

export interface S3BlobStoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Default: the AWS SDK's provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & { close(): void } {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  return new S3BlobStore(client, options.bucket);
}

class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  newKey(): string {
    return randomBytes(16).toString('base64url');
  }

  createWriter(key: string): BlobWriter {
    assertBlobKey(key);
    return new S3BlobWriter(this.#client, this.#bucket, key);
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    assertBlobKey(key);
    if (range !== undefined) assertRange(range);
    const client = this.#client;
    const bucket = this.#bucket;
    const abort = new AbortController();
    async function* body(): AsyncGenerator<Buffer> {
      let response;
      try {
        response = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
          }),
          { abortSignal: abort.signal },
        );
      } catch (error) {
        throw mapNotFound(error);
      }
      const stream = response.Body as Readable | undefined;
      if (stream === undefined) return;
      // Never more than the range asked for, whatever the server sends (s3rver 3
      // answers 'bytes=0-0' with the whole object).
      let remaining = range === undefined ? Infinity : range.end - range.start + 1;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (chunk.length >= remaining) {
            yield chunk.subarray(0, remaining);
            return;
          }
          remaining -= chunk.length;
          yield chunk;
        }
      } finally {
        stream.destroy();
      }
    }
    const readable = Readable.from(body(), { objectMode: false, highWaterMark: 1024 * 1024 });
    // A consumer that stops early (client gone, range satisfied) ends the request too.
    readable.once('close', () => abort.abort());
    return readable;
  }

  async size(key: string): Promise<number> {
    assertBlobKey(key);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      throw mapNotFound(error);
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    // DeleteObject succeeds for an absent key: idempotent by the protocol.
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }

  async sweep(
    isReferenced: (key: string) => Promise<boolean>,
    olderThan: Date,
  ): Promise<{ removedPartials: number; removedOrphans: number }> {
    const cutoff = olderThan.getTime();
    let removedPartials = 0;
    let removedOrphans = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!isBlobKey(upload.Key) || upload.UploadId === undefined) continue;
        if ((upload.Initiated?.getTime() ?? cutoff) >= cutoff) continue;
        await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: upload.Key, UploadId: upload.UploadId }));
        removedPartials += 1;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);

    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        // Objects we did not name are not ours to delete.
        if (!isBlobKey(object.Key)) continue;
        if ((object.LastModified?.getTime() ?? cutoff) >= cutoff) continue;
        if (await isReferenced(object.Key)) continue;
        await this.delete(object.Key);
        removedOrphans += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return { removedPartials, removedOrphans };
  }

  close(): void {
    this.#client.destroy();
  }
}

class S3BlobWriter implements BlobWriter {
  readonly stream: Writable;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #key: string;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  #uploadId: Promise<string> | undefined;
  readonly #parts: CompletedPart[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  #committed = false;
  #committing: Promise<void> | undefined;
  #aborting: Promise<void> | undefined;

  constructor(client: S3Client, bucket: string, key: string) {
    this.#client = client;
    this.#bucket = bucket;
    this.#key = key;
    this.stream = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#append(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.#finish().then(() => callback(), callback);
      },
    });
    // The caller's pipeline sees the error too; this listener only keeps an
    // unobserved failure from crashing the process. commit() reads stream.errored.
    this.stream.on('error', () => {});
  }

  commit(): Promise<void> {
    this.#committing ??= this.#commit();
    return this.#committing;
  }

  abort(): Promise<void> {
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  async #append(chunk: Buffer): Promise<void> {
    if (this.#aborting !== undefined) throw new Error('blob writer was aborted');
    this.#buffered.push(chunk);
    this.#bufferedBytes += chunk.length;
    while (this.#bufferedBytes >= PART_SIZE) {
      const all = Buffer.concat(this.#buffered, this.#bufferedBytes);
      this.#buffered = [all.subarray(PART_SIZE)];
      this.#bufferedBytes = all.length - PART_SIZE;
      await this.#sendPart(all.subarray(0, PART_SIZE));
    }
  }

  /** Stream end: the tail becomes the last part, unless the whole blob fits in one PutObject at commit. */
  async #finish(): Promise<void> {
    if (this.#uploadId !== undefined && this.#bufferedBytes > 0) {
      const tail = Buffer.concat(this.#buffered, this.#bufferedBytes);
      this.#buffered = [];
      this.#bufferedBytes = 0;
      await this.#sendPart(tail);
    }
    await this.#settle();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Starts one part; waits only when PARTS_IN_FLIGHT are already on their way (backpressure). */
  async #sendPart(body: Buffer): Promise<void> {
    if (this.#aborting !== undefined) throw new Error('blob writer was aborted');
    if (this.#failure !== undefined) throw this.#failure;
    this.#uploadId ??= this.#client
      .send(new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key }))
      .then((created) => {
        if (created.UploadId === undefined) throw new Error('the object store returned no upload id');
        return created.UploadId;
      });
    const partNumber = this.#parts.length + 1;
    const slot: CompletedPart = { PartNumber: partNumber };
    this.#parts.push(slot);
    const sending = this.#uploadId
      .then((uploadId) =>
        this.#client.send(
          new UploadPartCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: uploadId, PartNumber: partNumber, Body: body }),
        ),
      )
      .then((sent) => {
        slot.ETag = sent.ETag;
      })
      .catch((error: unknown) => {
        this.#failure ??= error;
      });
    const tracked = sending.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    while (this.#inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #commit(): Promise<void> {
    if (this.#aborting !== undefined) throw new Error('blob writer was aborted');
    if (!this.stream.writableEnded) throw new Error('blob writer committed before its stream ended');
    if (!this.stream.writableFinished && this.stream.errored === null) {
      await new Promise<void>((resolve) => {
        this.stream.once('finish', resolve);
        this.stream.once('error', () => resolve());
      });
    }
    if (this.stream.errored !== null) throw this.stream.errored;
    // A committed blob is never replaced. IfNoneMatch makes S3 (and MinIO) refuse
    // atomically; the HEAD before it covers servers that ignore the condition.
    if (await this.#exists()) throw new BlobExistsError();
    if (this.#uploadId === undefined) {
      const body = Buffer.concat(this.#buffered, this.#bufferedBytes);
      this.#buffered = [];
      await this.#client
        .send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key, Body: body, IfNoneMatch: '*' }))
        .catch(mapPreconditionFailed);
    } else {
      const uploadId = await this.#uploadId;
      await this.#client
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: this.#bucket,
            Key: this.#key,
            UploadId: uploadId,
            MultipartUpload: { Parts: this.#parts },
            IfNoneMatch: '*',
          }),
        )
        .catch(mapPreconditionFailed);
    }
    this.#committed = true;
  }

  async #exists(): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      return true;
    } catch (error) {
      if (mapNotFound(error) instanceof BlobNotFoundError) return false;
      throw error;
    }
  }

  async #abort(): Promise<void> {
    // Let a commit in progress settle, so we know whether an object exists.
    await this.#committing?.catch(() => {});
    if (!this.stream.destroyed) this.stream.destroy();
    this.#buffered = [];
    this.#bufferedBytes = 0;
    // Parts still on their way would otherwise land after the abort and be billed.
    await this.#settle();
    if (this.#committed) {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
    } else if (this.#uploadId !== undefined) {
      const uploadId = await this.#uploadId.catch(() => undefined);
      if (uploadId !== undefined) {
        await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: uploadId }));
      }
    }
  }
}

function assertRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError('blob range must be integers with 0 <= start <= end');
  }
}

function mapNotFound(error: unknown): unknown {
  if (error instanceof S3ServiceException) {
    if (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404) return new BlobNotFoundError();
  }
  return error;
}

function mapPreconditionFailed(error: unknown): never {
  if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) throw new BlobExistsError();
  throw error;
}
