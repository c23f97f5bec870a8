import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileAlgorithm, FileList, FileMetadata, ListFilesQuery, MyAccess } from '@sfe/contract';
import {
  AlgorithmDisabledError,
  WRAPPED_DEK_VERSION,
  assertAlgorithmAvailable,
  createDecryptStream,
  createRangeDecryptStream,
  generateDek,
  wrapDek,
  type KekRing,
  type SealWorkerPool,
} from '@sfe/crypto';
import type { Actor } from '../../lib/actor.ts';
import { AppError, fail, forbidden, invalidField, notFound } from '../../lib/errors.ts';
import type { ByteRange } from '../../lib/content-disposition.ts';
import type { BlobStore } from '../../stores/blobstore/index.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import type { AuditDetails } from '../audit/audit.operations.ts';
import type { AccessRequestRow, AccessRequestsRepository } from '../access-requests/access-requests.repository.ts';
import { blobAssociatedData, dekAssociatedData, unwrapFileDek } from './files.context.ts';
import { effectiveStatus } from '../access-requests/access-requests.presenter.ts';
import { toFileDto } from './files.presenter.ts';
import { summaryOf, type FileRow, type FilesRepository } from './files.repository.ts';

export interface UploadInput {
  filename: string;
  contentType: string;
  algorithm: FileAlgorithm;
  description: string | null;
  content: Readable;
  /** Called after the last byte is stored and before the row is written; may veto. */
  beforeCommit?: () => Promise<void>;
}

export interface FilesServiceDeps {
  files: FilesRepository;
  accessRequests: AccessRequestsRepository;
  blobStore: BlobStore;
  kekRing: () => KekRing;
  /** KEK_UNAVAILABLE while the configured ring lacks a key id that wraps data. */
  assertKekReady: () => Promise<void>;
  audit: AuditLog;
  maxUploadBytes: number;
  allowLegacyCiphers: boolean;
  /** Seals uploads (and hashes their plaintext) off the event loop. */
  sealPool: SealWorkerPool;
}

export const payloadTooLarge = (max: number) =>
  fail('PAYLOAD_TOO_LARGE', `The file is larger than the limit of ${max} bytes; nothing was stored.`);

export function createFilesService(deps: FilesServiceDeps) {
  const { files, blobStore, audit } = deps;

  function visibleTo(actor: Actor, file: FileRow | null): FileRow {
    if (!file) throw notFound('File');
    if (actor.role === 'organization' && file.ownerId !== actor.id) throw notFound('File');
    return file;
  }

  /** The plaintext of a stored file, whole or a range; audited when the stream ends. */
  function decryptedStream(
    file: FileRow,
    range: (ByteRange & { ciphertextSize: number }) | null,
    actor: Actor,
    purpose: string,
    dek: Buffer,
  ): Readable {
    const ad = blobAssociatedData(file.id);
    const options = { allowLegacy: deps.allowLegacyCiphers };
    let plaintext: Readable;
    if (range) {
      plaintext = createRangeDecryptStream({
        dek,
        associatedData: ad,
        ...options,
        ciphertextSize: range.ciphertextSize,
        start: range.start,
        end: range.end,
        read: (offset, length) => blobStore.createReadStream(file.blobKey, { start: offset, end: offset + length - 1 }),
      });
    } else {
      const source = blobStore.createReadStream(file.blobKey);
      const decrypt = createDecryptStream(dek, ad, options);
      source.on('error', (error) => decrypt.destroy(error));
      plaintext = source.pipe(decrypt);
    }
    let finished = false;
    const done = (success: boolean) => {
      if (finished) return;
      finished = true;
      dek.fill(0);
      audit.record({
        operation: 'file_decrypted',
        success,
        userId: actor.id,
        ipAddress: actor.ip,
        details: { fileId: file.id, purpose, ...(range ? { rangeStart: range.start, rangeEnd: range.end } : {}) },
        // The bytes are already sent: a failed write is logged by the audit service, nothing to undo.
      }).catch(() => undefined);
    };
    plaintext.once('end', () => done(true));
    plaintext.once('error', () => done(false));
    plaintext.once('close', () => done(plaintext.readableEnded));
    return plaintext;
  }

  return {
    async upload(actor: Actor, input: UploadInput): Promise<FileMetadata> {
      if (actor.role !== 'organization') throw forbidden('Only organizations upload files.');
      // Never mix a data directory: with a key id missing, the operator started on the wrong key.
      await deps.assertKekReady();
      try {
        assertAlgorithmAvailable(input.algorithm, deps.allowLegacyCiphers);
      } catch (error) {
        if (error instanceof AlgorithmDisabledError) throw fail('ALGORITHM_DISABLED', error.message);
        throw error;
      }
      const fileId = randomUUID();
      const blobKey = blobStore.newKey();
      const dek = generateDek();
      let size = 0;
      const max = deps.maxUploadBytes;
      const meter = new Transform({
        highWaterMark: 1 << 20,
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > max) return callback(payloadTooLarge(max));
          callback(null, chunk);
        },
      });
      const writer = blobStore.createWriter(blobKey);
      let committed = false;
      try {
        // Hashes the plaintext as well: its SHA-256 is ready once the stream ended.
        const encrypt = deps.sealPool.createEncryptStream(dek, blobAssociatedData(fileId), {
          algorithm: input.algorithm,
          allowLegacy: deps.allowLegacyCiphers,
        });
        await pipeline(input.content, meter, encrypt, writer.stream);
        const sha256 = encrypt.plaintextSha256();
        if ((input.content as Readable & { truncated?: boolean }).truncated) throw payloadTooLarge(max);
        await input.beforeCommit?.();
        const ring = deps.kekRing();
        const wrappedKey = wrapDek(ring, dek, dekAssociatedData(fileId));
        await writer.commit();
        committed = true;
        const row = await files.create({
          id: fileId,
          ownerId: actor.id,
          filename: input.filename,
          contentType: input.contentType,
          size,
          sha256,
          algorithm: input.algorithm,
          description: input.description,
          blobKey,
          wrappedKey,
          wrappedKeyVersion: WRAPPED_DEK_VERSION,
          kekId: ring.activeKeyId,
        });
        await audit.record({
          operation: 'key_wrapped',
          success: true,
          userId: actor.id,
          ipAddress: actor.ip,
          details: { fileId, wrappedBy: 'kek', keyId: ring.activeKeyId },
        });
        await audit.record({
          operation: 'file_encrypted',
          success: true,
          userId: actor.id,
          ipAddress: actor.ip,
          details: { fileId, algorithm: input.algorithm, size },
        });
        return toFileDto(summaryOf(row));
      } catch (error) {
        // Nothing half-written: the blob goes, whether or not it was committed.
        await writer.abort().catch(() => undefined);
        if (committed) await blobStore.delete(blobKey).catch(() => undefined);
        input.content.resume();
        await audit.record({
          operation: 'file_encrypted',
          success: false,
          userId: actor.id,
          ipAddress: actor.ip,
          details: { algorithm: input.algorithm, reason: error instanceof AppError ? error.code : 'error' },
        });
        throw error;
      } finally {
        dek.fill(0);
      }
    },

    /**
     * One page of the files the actor may see. An organization's own page comes with the
     * list version it was read at (see files.page-cache.ts); every other page with null.
     */
    async list(actor: Actor, query: ListFilesQuery): Promise<{ list: FileList; version: string | null }> {
      const limit = query.limit ?? 50;
      if (query.cursor && !(await files.exists(query.cursor))) throw invalidField('querystring.cursor', 'is not a cursor of this list');
      const page = await files.list({
        limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.q ? { q: query.q } : {}),
        ...(actor.role === 'organization' ? { owner: { id: actor.id, username: actor.username } } : {}),
      });
      if (actor.role !== 'consultant') return { list: { items: page.rows.map((row) => toFileDto(row)), nextCursor: page.nextCursor }, version: page.version };
      const latest = await deps.accessRequests.latestStatusByFile(actor.id, page.rows.map((row) => row.id));
      const now = new Date();
      return {
        list: { items: page.rows.map((row) => toFileDto(row, effectiveAccess(latest.get(row.id), now))), nextCursor: page.nextCursor },
        version: null,
      };
    },

    async get(actor: Actor, id: string): Promise<FileMetadata> {
      const file = visibleTo(actor, await files.findLive(id));
      if (actor.role !== 'consultant') return toFileDto(summaryOf(file));
      const latest = await deps.accessRequests.latestStatusByFile(actor.id, [file.id]);
      return toFileDto(summaryOf(file), effectiveAccess(latest.get(file.id), new Date()));
    },

    /** Owner download: the file row, after the ownership check. */
    async getOwnContent(actor: Actor, id: string): Promise<FileRow> {
      const file = visibleTo(actor, await files.findLive(id));
      if (file.ownerId !== actor.id) throw forbidden('Only the owning organization downloads a file directly; consultants use an approved access request.');
      return file;
    },

    /** Unwraps the DEK with the KEK ring and opens the plaintext stream. */
    openOwnContent(actor: Actor, file: FileRow, range: ByteRange | null): Promise<Readable> {
      return this.openWithKek(actor, file, range, 'owner_download');
    },

    /**
     * Unwraps a file's DEK with the KEK ring, audited as key_unwrapped either way.
     * The caller zeroes the DEK when done.
     */
    async unwrapDek(actor: Actor, file: FileRow, details: AuditDetails): Promise<Buffer> {
      if (!file.wrappedKey) throw notFound('File');
      const event = { operation: 'key_unwrapped' as const, userId: actor.id, ipAddress: actor.ip, details: { fileId: file.id, keyId: file.kekId, ...details } };
      let dek: Buffer;
      try {
        dek = unwrapFileDek(deps.kekRing(), file.id, file.wrappedKey);
      } catch (error) {
        await audit.record({ ...event, success: false });
        throw error;
      }
      await audit.record({ ...event, success: true });
      return dek;
    },

    async openWithKek(actor: Actor, file: FileRow, range: ByteRange | null, purpose: string): Promise<Readable> {
      const dek = await this.unwrapDek(actor, file, {});
      try {
        const sized = range ? { ...range, ciphertextSize: await blobStore.size(file.blobKey) } : null;
        return decryptedStream(file, sized, actor, purpose, dek);
      } catch (error) {
        dek.fill(0);
        throw error;
      }
    },

    /** Decrypts, whole or a range, with a DEK the caller already unwrapped (a consultant's grant). */
    async openWithDek(actor: Actor, file: FileRow, dek: Buffer, range: ByteRange | null): Promise<Readable> {
      try {
        const sized = range ? { ...range, ciphertextSize: await blobStore.size(file.blobKey) } : null;
        return decryptedStream(file, sized, actor, 'grant_download', dek);
      } catch (error) {
        dek.fill(0);
        throw error;
      }
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const event = { operation: 'file_deleted', userId: actor.id, ipAddress: actor.ip } as const;
      let file: FileRow;
      try {
        file = visibleTo(actor, await files.findLive(id));
        if (file.ownerId !== actor.id) throw forbidden('Only the owning organization can delete a file.');
      } catch (error) {
        if (error instanceof AppError) await audit.record({ ...event, success: false, details: { fileId: id, refused: error.code } });
        throw error;
      }
      // Fail closed: the record goes first, so nothing is shredded that the log cannot show.
      await audit.record({ ...event, success: true, details: { fileId: file.id, shredded: true } });
      const result = await files.shred(file.id, new Date());
      if (!result) {
        await audit.record({ ...event, success: false, details: { fileId: file.id, raced: true } });
        throw notFound('File');
      }
      await blobStore.delete(file.blobKey).catch(() => undefined);
    },

    /** Right to erasure: crypto-shreds every live file of an owner (called by an admin). */
    async shredAllOf(actor: Actor, ownerId: string): Promise<number> {
      let shredded = 0;
      for (const file of await files.liveIdsOf(ownerId)) {
        await audit.record({
          operation: 'file_deleted',
          success: true,
          userId: actor.id,
          ipAddress: actor.ip,
          details: { fileId: file.id, ownerId, shredded: true, reason: 'erasure' },
        });
        if (!(await files.shred(file.id, new Date()))) continue;
        await blobStore.delete(file.blobKey).catch(() => undefined);
        shredded++;
      }
      return shredded;
    },

    findLive: (id: string) => files.findLive(id),
  };
}
export type FilesService = ReturnType<typeof createFilesService>;

/** The caller's access to a file: the effective status of their latest request, or none. */
const effectiveAccess = (latest: Pick<AccessRequestRow, 'status' | 'expiresAt'> | undefined, now: Date): MyAccess =>
  latest ? effectiveStatus(latest, now) : 'none';
