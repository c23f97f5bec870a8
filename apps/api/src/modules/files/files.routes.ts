import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MultipartFile, MultipartValue, Multipart } from '@fastify/multipart';
import { FILE_ALGORITHMS, isFileAlgorithm, FileList, FileMetadata, IdParams, ListFilesQuery } from '@sfe/contract';
import { AppError, fail, invalidField } from '../../lib/errors.ts';
import { sanitizeContentType, sanitizeFilename } from '../../lib/content-disposition.ts';
import { requestedRange, sendPlaintext } from '../../lib/send-file.ts';
import { NoContent, bearer, octetStream, problems } from '../../lib/route-schemas.ts';
import type { FilesService } from './files.service.ts';
import { ListPageCache } from './files.page-cache.ts';

const TEXT_FIELDS = new Set(['algorithm', 'description']);
const MAX_DESCRIPTION = 2000;
/** A body this route's response schema has already serialized, sent as Fastify sends JSON. */
const sendSerialized = (reply: FastifyReply, body: Buffer) => reply.type('application/json; charset=utf-8').send(body);

/** What the multipart parser (busboy) throws for a body that is not well-formed multipart. */
const MALFORMED_MULTIPART = /^(Multipart: |Unexpected end of (multipart data|form|file)|Malformed )/;
const isMalformedMultipart = (error: unknown) =>
  error instanceof Error && !(error instanceof AppError) && !('code' in error) && MALFORMED_MULTIPART.test(error.message);


export const filesRoutes: FastifyPluginAsyncTypebox<{ files: FilesService }> = async (app, { files }) => {
  // onRequest: identity is settled before the body is even parsed, so an anonymous caller
  // learns nothing about a route's schema (401, never 400).
  app.addHook('onRequest', app.authenticate);
  const pages = new ListPageCache();

  app.post(
    '',
    {
      onRequest: app.requireRole('organization'),
      schema: {
        tags: ['files'],
        security: bearer,
        consumes: ['multipart/form-data'],
        description:
          'Multipart upload: optional text fields `algorithm` and `description` first, then exactly one file part named `file`. Streamed through encryption; never buffered.',
        response: { 201: FileMetadata, ...problems(400, 401, 403, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Uploads are multipart/form-data.');
      try {
        return await receiveUpload(request, reply);
      } catch (error) {
        if (isMalformedMultipart(error)) throw fail('VALIDATION_FAILED', 'The multipart body is malformed; nothing was stored.');
        throw error;
      }
    },
  );

  async function receiveUpload(request: FastifyRequest, reply: FastifyReply) {
    const parts: AsyncIterator<Multipart> = request.parts()[Symbol.asyncIterator]();
    const fields = new Map<string, string>();
    for (;;) {
      const next = await parts.next();
      if (next.done) throw invalidField('body.file', 'is required');
      const part = next.value;
      if (part.type === 'field') {
        const field = part as MultipartValue<unknown>;
        if (!TEXT_FIELDS.has(field.fieldname)) throw invalidField(`body.${field.fieldname}`, 'is not an accepted field');
        if (fields.has(field.fieldname)) throw invalidField(`body.${field.fieldname}`, 'must be given once');
        fields.set(field.fieldname, String(field.value));
        continue;
      }
      const file = part as MultipartFile;
      if (file.fieldname !== 'file') throw invalidField(`body.${file.fieldname}`, 'is not an accepted file field; use "file"');
      const algorithm = fields.get('algorithm') ?? 'aes-256-gcm';
      // Checked by hand: typebox's Value module would cost the server ~5 MiB of memory for this one test.
      if (!isFileAlgorithm(algorithm)) {
        throw invalidField('body.algorithm', `must be one of ${FILE_ALGORITHMS.join(', ')}`);
      }
      const description = fields.get('description') ?? null;
      if (description !== null && description.length > MAX_DESCRIPTION) {
        throw invalidField('body.description', `must be at most ${MAX_DESCRIPTION} characters`);
      }
      const created = await files.upload(request.actor, {
        filename: sanitizeFilename(file.filename),
        contentType: sanitizeContentType(file.mimetype),
        algorithm,
        description,
        content: file.file,
        beforeCommit: async () => {
          const extra = await parts.next();
          if (!extra.done) throw invalidField(`body.${extra.value.fieldname}`, 'must come before the file part; only one file per upload');
        },
      });
      return reply.code(201).send(created);
    }
  }

  app.get(
    '',
    {
      schema: { tags: ['files'], security: bearer, querystring: ListFilesQuery, response: { 200: FileList, ...problems(400, 401) } },
    },
    async (request, reply) => {
      const key = ListPageCache.keyOf(request.actor, request.query);
      const kept = key === null ? undefined : pages.get(key, request.account.fileListVersion);
      if (kept !== undefined) return sendSerialized(reply, kept);
      const { list, version } = await files.list(request.actor, request.query);
      if (key === null || version === null) return list;
      // Serialized as any answer of this route is (its response schema), once per version.
      // (fast-json-stringify's output is a string.)
      const body = Buffer.from(reply.serialize(list) as string, 'utf8');
      pages.set(key, version, body);
      return sendSerialized(reply, body);
    },
  );

  app.get(
    '/:id',
    {
      schema: { tags: ['files'], security: bearer, params: IdParams, response: { 200: FileMetadata, ...problems(401, 404) } },
    },
    async (request) => files.get(request.actor, request.params.id),
  );

  app.get(
    '/:id/content',
    {
      schema: {
        tags: ['files'],
        security: bearer,
        params: IdParams,
        response: {
          200: octetStream('The decrypted file'),
          206: octetStream('The requested byte range'),
          ...problems(401, 403, 404, 416, 503),
        },
      },
    },
    async (request, reply) => {
      const file = await files.getOwnContent(request.actor, request.params.id);
      const range = requestedRange(request.headers.range, Number(file.size));
      const stream = await files.openOwnContent(request.actor, file, range);
      return sendPlaintext(reply, file, stream, range);
    },
  );

  app.delete(
    '/:id',
    {
      schema: { tags: ['files'], security: bearer, params: IdParams, response: { 204: NoContent, ...problems(401, 403, 404) } },
    },
    async (request, reply) => {
      await files.remove(request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
