import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// Streamed multipart uploads over real HTTP: the body is produced chunk by chunk,
// so a test or a benchmark never holds a whole multipart body in memory.

export interface StreamedMultipart {
  headers: { 'content-type': string; 'content-length': string };
  /** Exact length of the whole body, so the request is sent with Content-Length. */
  length: number;
  /** A fresh body stream per call. */
  body(): Readable;
}

export interface MultipartFileSpec {
  fields?: Record<string, string>;
  filename: string;
  contentType?: string;
  /** Exact number of file bytes `source` yields. */
  size: number;
  source: () => Iterable<Buffer> | AsyncIterable<Buffer>;
}

export function streamedMultipart(spec: MultipartFileSpec): StreamedMultipart {
  const boundary = `----sfe${randomBytes(12).toString('hex')}`;
  const fieldParts = Object.entries(spec.fields ?? {}).map(([name, value]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  );
  const fileHead = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${spec.filename}"\r\n` +
      `Content-Type: ${spec.contentType ?? 'application/octet-stream'}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const head = Buffer.concat([...fieldParts, fileHead]);
  const length = head.length + spec.size + tail.length;

  async function* generate(): AsyncGenerator<Buffer> {
    yield head;
    let sent = 0;
    for await (const chunk of spec.source()) {
      sent += chunk.length;
      yield chunk;
    }
    // A wrong Content-Length would turn a test of the server into a test of the client.
    if (sent !== spec.size) throw new Error(`multipart source yielded ${sent} bytes, expected ${spec.size}`);
    yield tail;
  }

  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(length) },
    length,
    body: () => Readable.from(generate(), { objectMode: false }),
  };
}

/** `data` in slices: the caller's one copy of the plaintext is all that is held. */
export function* slices(data: Buffer, chunkSize = 256 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
}

/** `size` bytes made by repeating `block`: constant memory, and the client never becomes the bottleneck. */
export function* repeated(block: Buffer, size: number): Generator<Buffer> {
  for (let left = size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP request with a streamed body; the response is collected (small answers only). */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Readable },
): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
    });
    req.once('error', reject);
    if (options.body === undefined) {
      req.end();
      return;
    }
    // The server may answer (413, 401) and close before the whole body is sent:
    // the response, not the upload's write error, is the result then.
    pipeline(options.body, req).catch(() => undefined);
  });
}

export function uploadFile(baseUrl: string, accessToken: string, multipart: StreamedMultipart): Promise<HttpResult> {
  return send(`${baseUrl}/api/v1/files`, {
    headers: { ...multipart.headers, authorization: `Bearer ${accessToken}` },
    body: multipart.body(),
  });
}

export interface JsonResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON call over real HTTP (fetch); problem+json bodies parse the same way. */
export async function callJson<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  route: string,
  options: { token?: string; body?: unknown } = {},
): Promise<JsonResult<T>> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text === '' ? null : JSON.parse(text)) as T };
}

export interface HttpSession {
  id: string;
  username: string;
  password: string;
  accessToken: string;
}

export async function loginHttp(baseUrl: string, username: string, password: string): Promise<HttpSession> {
  const login = await callJson<{ accessToken: string; user: { id: string } }>(baseUrl, 'POST', '/api/v1/auth/login', {
    body: { username, password },
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: login.body.user.id, username, password, accessToken: login.body.accessToken };
}

/** Registers over HTTP (real work factors on a real server) and logs in. */
export async function signUpHttp(
  baseUrl: string,
  role: 'organization' | 'consultant',
  options: { username?: string; password?: string } = {},
): Promise<HttpSession> {
  const username = options.username ?? `${role.slice(0, 3)}-${randomBytes(6).toString('hex')}`;
  const password = options.password ?? `pw-${randomBytes(12).toString('base64url')}`;
  const registered = await callJson(baseUrl, 'POST', '/api/v1/auth/register', { body: { username, password, role } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  return loginHttp(baseUrl, username, password);
}
