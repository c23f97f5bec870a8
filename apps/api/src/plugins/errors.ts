import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode, Problem } from '@sfe/contract';
import { CryptoError } from '@sfe/crypto';
import { AppError } from '../lib/errors.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { KeyStoreUnavailableError } from '../stores/keystore/index.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `body.password`, `querystring.limit`, ... from an Ajv issue. */
function fieldName(context: string | undefined, issue: ValidationIssue): string {
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  const extra = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return [context ?? 'body', ...path].join('.');
}

function issueMessage(issue: ValidationIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not an accepted field';
  return issue.message ?? 'is not valid';
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  detail: string,
  extra: Partial<Problem> = {},
): FastifyReply {
  const body: Problem = {
    type: `https://sfe.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
  return reply.code(status).type('application/problem+json; charset=utf-8').send(body);
}

/** Maps framework and plugin errors we expect to stable problems; everything else is a 500. */
function classify(error: FastifyError): { status: number; code: ErrorCode; detail: string } | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'The request is larger than allowed; nothing was stored.' };
    // Too many parts is a malformed upload (one file, a few fields), not a large one.
    case 'FST_FILES_LIMIT':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'An upload carries exactly one file part; nothing was stored.' };
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'The upload has more parts than accepted; nothing was stored.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'This content type is not accepted here.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'The request body is not valid JSON.' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'The Content-Length header is not valid.' };
    case 'FST_PROTO_VIOLATION':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'The request body is not acceptable.' };
    case 'FST_JWT_NO_AUTHORIZATION_IN_HEADER':
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID':
    case 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED':
    case 'FST_JWT_BAD_REQUEST':
    case 'FST_JWT_BAD_COOKIE_REQUEST':
      return { status: 401, code: 'UNAUTHORIZED', detail: 'A valid access token is required.' };
    default:
      if (error.statusCode === 429) return { status: 429, code: 'RATE_LIMITED', detail: 'Too many requests; slow down.' };
      return null;
  }
}

async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      reply.headers(error.headers);
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, error.status, error.code, error.message, error.fields ? { fields: error.fields } : {});
    }
    if (error.validation) {
      const fields = error.validation.map((issue: ValidationIssue) => ({
        name: fieldName(error.validationContext, issue),
        message: issueMessage(issue),
      }));
      const first = fields[0];
      const detail = first ? `${first.name} ${first.message}.` : 'The request is not valid.';
      return sendProblem(reply, 400, 'VALIDATION_FAILED', detail, { fields });
    }
    if (error instanceof KeyStoreUnavailableError) {
      // Services let the key store's own error through; this is the one place it
      // becomes the API's answer (nothing was changed, so a retry is safe).
      reply.header('retry-after', '5');
      return sendProblem(reply, 503, 'KEY_STORE_UNAVAILABLE', 'The key store is unavailable; nothing was changed. Try again later.');
    }
    const known = classify(error);
    if (known) return sendProblem(reply, known.status, known.code, known.detail);
    if (isDatabaseUnavailable(error)) {
      request.log.error({ errName: error.name }, 'the app database is unavailable');
      reply.header('retry-after', '5');
      return sendProblem(reply, 503, 'SERVICE_UNAVAILABLE', 'The database is unavailable; try again later.');
    }
    if (error instanceof CryptoError) {
      // Integrity failures of stored data: an operator matter, never explained to the client.
      request.log.error({ errCode: error.code }, 'cryptographic operation failed');
      return sendProblem(reply, 500, 'INTERNAL_ERROR', 'The stored data could not be opened; the incident was logged.');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 500, 'INTERNAL_ERROR', 'Something went wrong on our side; the incident was logged.');
  });

  app.setNotFoundHandler((_request, reply) =>
    sendProblem(reply, 404, 'NOT_FOUND', 'There is no such route.'),
  );
}

export default fp(errorsPlugin, { name: 'sfe-errors' });
