import { createHash } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { AccessRequest, FileMetadata, User } from '@sfe/contract';
import { login, uniqueName, type Session } from './app.ts';

/**
 * Route-test fixtures on top of app.ts. Every register/login/refresh call comes from
 * its own client address: those routes share a per-IP budget of 30 a minute, and a
 * test file signs up far more users than that on one app.
 */

export type Role = 'organization' | 'consultant';
export const PASSWORD = 'correct horse battery staple';

let ipCounter = 1;
/** A client address no other call in this process has used. */
export function freshIp(): string {
  const n = ipCounter++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function registerUser(
  app: FastifyInstance,
  role: Role,
  options: { username?: string; password?: string; keySize?: 2048 | 4096 } = {},
): Promise<{ user: User; password: string }> {
  const password = options.password ?? PASSWORD;
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    remoteAddress: freshIp(),
    payload: {
      username: options.username ?? uniqueName(role.slice(0, 3)),
      password,
      role,
      ...(options.keySize ? { keySize: options.keySize } : {}),
    },
  });
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  return { user: response.json<{ user: User }>().user, password };
}

export function loginRaw(app: FastifyInstance, username: string, password: string, ip = freshIp()) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { username, password } });
}

export function refreshRaw(app: FastifyInstance, refreshToken: string, ip = freshIp()) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/refresh', remoteAddress: ip, payload: { refreshToken } });
}

export function loginAs(app: FastifyInstance, username: string, password: string): Promise<Session> {
  return login(app, username, password, freshIp());
}

/** Registers and signs in a new user; each call is a new account. */
export async function newUser(
  app: FastifyInstance,
  role: Role,
  options: { username?: string; password?: string; keySize?: 2048 | 4096 } = {},
): Promise<Session> {
  const { user, password } = await registerUser(app, role, options);
  return loginAs(app, user.username, password);
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export interface UploadOptions {
  data: Buffer;
  filename?: string;
  contentType?: string;
  algorithm?: string;
  description?: string;
  /** Extra text fields, sent before the file part. */
  fields?: Array<{ name: string; value: string }>;
  /** Name of the file part (default `file`). */
  partName?: string;
  /**
   * Send `filename*=utf-8''...` (RFC 5987) so any character of the name survives the
   * multipart header. Lower-case charset: the multipart parser ignores `UTF-8''`.
   */
  extendedFilename?: boolean;
}

/** A multipart upload body; text fields always come before the file part, as docs/api.md asks. */
export function uploadBody(options: UploadOptions): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----sfe-route-test-${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  const field = (name: string, value: string) =>
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  if (options.algorithm !== undefined) field('algorithm', options.algorithm);
  if (options.description !== undefined) field('description', options.description);
  for (const extra of options.fields ?? []) field(extra.name, extra.value);
  const filename = options.filename ?? 'data.bin';
  const disposition = options.extendedFilename
    ? `filename*=utf-8''${encodeURIComponent(filename)}`
    : `filename="${filename}"`;
  chunks.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${options.partName ?? 'file'}"; ${disposition}\r\n` +
        `Content-Type: ${options.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    ),
    options.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function uploadRaw(app: FastifyInstance, session: Session | null, options: UploadOptions) {
  const body = uploadBody(options);
  return app.inject({
    method: 'POST',
    url: '/api/v1/files',
    headers: { ...(session?.headers ?? {}), ...body.headers },
    payload: body.payload,
  });
}

export async function uploadFile(app: FastifyInstance, session: Session, options: UploadOptions): Promise<FileMetadata> {
  const response = await uploadRaw(app, session, options);
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.statusCode} ${response.body}`);
  return response.json<FileMetadata>();
}

export function requestAccessRaw(app: FastifyInstance, session: Session | null, fileId: string, reason = 'quarterly audit') {
  return app.inject({
    method: 'POST',
    url: `/api/v1/files/${fileId}/access-requests`,
    headers: session?.headers ?? {},
    payload: { reason },
  });
}

export async function requestAccess(app: FastifyInstance, session: Session, fileId: string, reason?: string): Promise<AccessRequest> {
  const response = await requestAccessRaw(app, session, fileId, reason);
  if (response.statusCode !== 201) throw new Error(`access request failed: ${response.statusCode} ${response.body}`);
  return response.json<AccessRequest>();
}

/** POST /access-requests/{id}/{action}; `body` undefined sends no body at all. */
export function actOnRequest(
  app: FastifyInstance,
  session: Session | null,
  requestId: string,
  action: 'approve' | 'deny' | 'revoke',
  body?: Record<string, unknown>,
) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/access-requests/${requestId}/${action}`,
    headers: session?.headers ?? {},
    ...(body === undefined ? {} : { payload: body }),
  });
}

export async function approve(app: FastifyInstance, org: Session, requestId: string, body: Record<string, unknown> = {}): Promise<AccessRequest> {
  const response = await actOnRequest(app, org, requestId, 'approve', body);
  if (response.statusCode !== 200) throw new Error(`approve failed: ${response.statusCode} ${response.body}`);
  return response.json<AccessRequest>();
}

export function downloadRaw(app: FastifyInstance, session: Session | null, requestId: string, password: string) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/access-requests/${requestId}/download`,
    headers: session?.headers ?? {},
    payload: { password },
  });
}

/** An organization with one uploaded file and a consultant holding an approved grant for it. */
export async function grantedPair(
  app: FastifyInstance,
  options: { data?: Buffer; approveBody?: Record<string, unknown>; org?: Session; con?: Session } = {},
) {
  const org = options.org ?? (await newUser(app, 'organization'));
  const con = options.con ?? (await newUser(app, 'consultant'));
  const data = options.data ?? Buffer.from(`grant payload ${uniqueName('d')}`);
  const file = await uploadFile(app, org, { data, filename: 'granted.txt', contentType: 'text/plain' });
  const pending = await requestAccess(app, con, file.id);
  const request = await approve(app, org, pending.id, options.approveBody ?? {});
  return { org, con, file, request, data };
}

const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'code'] as const;

/** Asserts an RFC 9457 problem with the given status and code, free of internals. */
export function expectProblem(response: LightMyRequestResponse, status: number, code?: string): Record<string, unknown> {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  for (const key of PROBLEM_KEYS) expect(body, `problem lacks ${key}`).toHaveProperty(key);
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.status).toBe(status);
  expect(body.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  if (code !== undefined) expect(body.code).toBe(code);
  expectNoInternals(response.body);
  return body;
}

/** 400 VALIDATION_FAILED whose `fields` name the offending field (e.g. `body.password`). */
export function expectValidation(response: LightMyRequestResponse, field: string): void {
  const body = expectProblem(response, 400, 'VALIDATION_FAILED');
  const fields = (body.fields ?? []) as Array<{ name: string; message: string }>;
  expect(fields.map((f) => f.name), `fields of ${response.body}`).toContain(field);
}

/** No stack frames, source paths, SQL or driver names leak into an answer. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s+at\s|\bat .+:\d+:\d+/);
  expect(text).not.toMatch(/\/work\/|node_modules|\/tmp\/|\.ts\b|sfe-test-/);
  expect(text).not.toMatch(/prisma|sqlite|SELECT |INSERT |mongo/i);
  expect(text).not.toMatch(/BEGIN [A-Z ]*KEY/);
}
