import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { attachmentDisposition, parseRange, type ByteRange } from './content-disposition.ts';
import { fail } from './errors.ts';

/** The single range a request asks for, null for the whole file; 416 when it cannot be served. */
export function requestedRange(header: string | undefined, size: number): ByteRange | null {
  const range = parseRange(header, size);
  if (range === 'unsatisfiable') {
    throw fail('RANGE_NOT_SATISFIABLE', 'The requested range is outside the file.', { 'content-range': `bytes */${size}` });
  }
  return range;
}

/** Streams decrypted bytes with the headers docs/api.md fixes for file content. */
export function sendPlaintext(
  reply: FastifyReply,
  file: { filename: string; contentType: string; size: bigint | number },
  stream: Readable,
  range: ByteRange | null = null,
): FastifyReply {
  const size = Number(file.size);
  reply
    .header('content-type', file.contentType)
    .header('content-disposition', attachmentDisposition(file.filename))
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff');
  if (range) {
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', String(range.end - range.start + 1));
  } else {
    reply.code(200).header('content-length', String(size));
  }
  return reply.send(stream);
}

/** Streams a CSV export as an attachment; never cached. */
export function sendCsv(reply: FastifyReply, filename: string, stream: Readable): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', attachmentDisposition(filename))
    .header('cache-control', 'no-store')
    .send(stream);
}
