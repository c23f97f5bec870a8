import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequestList, FileList, FileMetadata } from '@sfe/contract';
import { DEFAULT_SEGMENT_SIZE } from '@sfe/crypto';
import { buildTestApp, uniqueName, type Session, type TestApp } from '../helpers/app.ts';
import {
  actOnRequest,
  approve,
  downloadRaw,
  expectProblem,
  expectValidation,
  newUser,
  requestAccess,
  sha256,
  uploadFile,
  uploadRaw,
} from '../helpers/fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Every regular file under dir (the blob store keeps ciphertext there). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/**
 * Parses `attachment; name=value; ...` strictly (RFC 6266 / 9110 token or quoted-string
 * values) and fails on anything left over, so an injected parameter cannot hide.
 */
function parseDisposition(header: string): { type: string; params: Map<string, string> } {
  const match = /^([A-Za-z]+)/.exec(header);
  if (!match) throw new Error(`no disposition type in ${JSON.stringify(header)}`);
  const params = new Map<string, string>();
  let rest = header.slice(match[0].length);
  // eslint-disable-next-line no-control-regex -- control characters are what this checks for
  const param = /^\s*;\s*([A-Za-z0-9!#$&+.^_`|~*-]+)\s*=\s*(?:"((?:[^"\\\u0000-\u001f\u007f]|\\[\u0020-\u007e])*)"|([A-Za-z0-9!#$%&'*+.^_`|~-]+))/;
  while (rest.trim() !== '') {
    const p = param.exec(rest);
    if (!p) throw new Error(`unparseable disposition rest ${JSON.stringify(rest)}`);
    const name = (p[1] ?? '').toLowerCase();
    if (params.has(name)) throw new Error(`duplicate parameter ${name}`);
    params.set(name, p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
    rest = rest.slice(p[0].length);
  }
  return { type: match[1]!.toLowerCase(), params };
}

describe('files routes', () => {
  let t: TestApp;
  let org: Session;
  let otherOrg: Session;
  let con: Session;
  beforeAll(async () => {
    t = await buildTestApp();
    org = await newUser(t.app, 'organization');
    otherOrg = await newUser(t.app, 'organization');
    con = await newUser(t.app, 'consultant');
  });
  afterAll(async () => t.cleanup());

  const get = (url: string, session: Session | null, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { ...(session?.headers ?? {}), ...headers } });
  const del = (id: string, session: Session | null) =>
    t.app.inject({ method: 'DELETE', url: `/api/v1/files/${id}`, headers: session?.headers ?? {} });
  const blobDir = () => path.join(t.dataDir, 'blobs');

  describe('POST /files', () => {
    it('uploads with the default algorithm: 201 file with the named fields, sha256 and size of the plaintext', async () => {
      const data = randomBytes(70_000);
      const response = await uploadRaw(t.app, org, { data, filename: 'report.pdf', contentType: 'application/pdf', description: 'Q3 figures' });
      expect(response.statusCode, response.body).toBe(201);
      const file = response.json<FileMetadata>();
      expect(typeof file.id).toBe('string');
      expect(file.filename).toBe('report.pdf');
      expect(file.contentType).toBe('application/pdf');
      expect(file.size).toBe(data.length);
      expect(file.sha256).toBe(sha256(data));
      expect(file.algorithm).toBe('aes-256-gcm');
      expect(file.description).toBe('Q3 figures');
      expect(file.ownerId).toBe(org.id);
      expect(file.ownerName).toBe(org.username);
      expect(file.createdAt).toMatch(ISO);

      const fetched = await get(`/api/v1/files/${file.id}`, org);
      expect(fetched.statusCode).toBe(200);
      expect(fetched.json<FileMetadata>()).toMatchObject(file);

      const content = await get(`/api/v1/files/${file.id}/content`, org);
      expect(content.statusCode).toBe(200);
      expect(Buffer.compare(content.rawPayload, data)).toBe(0);
    });

    it('stores ciphertext only: the plaintext appears in no file under DATA_DIR', async () => {
      const marker = Buffer.from(`PLAINTEXT-MARKER-${uniqueName('m')}`.repeat(20));
      await uploadFile(t.app, org, { data: marker, filename: 'marker.txt', contentType: 'text/plain' });
      const needle = marker.subarray(0, 40);
      const { readFile } = await import('node:fs/promises');
      for (const file of await filesUnder(t.dataDir)) {
        expect((await readFile(file)).includes(needle), file).toBe(false);
      }
    });

    it('round-trips chacha20-poly1305, whole and by range', async () => {
      const data = randomBytes(150_000);
      const file = await uploadFile(t.app, org, { data, algorithm: 'chacha20-poly1305', filename: 'c.bin' });
      expect(file.algorithm).toBe('chacha20-poly1305');
      expect(file.sha256).toBe(sha256(data));
      const whole = await get(`/api/v1/files/${file.id}/content`, org);
      expect(whole.statusCode).toBe(200);
      expect(Buffer.compare(whole.rawPayload, data)).toBe(0);
      const part = await get(`/api/v1/files/${file.id}/content`, org, { range: 'bytes=65530-131080' });
      expect(part.statusCode).toBe(206);
      expect(Buffer.compare(part.rawPayload, data.subarray(65530, 131081))).toBe(0);
    });

    it('accepts aes-256-gcm named explicitly and an upload above 1 MiB', async () => {
      const data = randomBytes(2.5 * 1024 * 1024);
      const file = await uploadFile(t.app, org, { data, algorithm: 'aes-256-gcm', filename: 'big.bin' });
      expect(file.size).toBe(data.length);
      expect(file.sha256).toBe(sha256(data));
      const content = await get(`/api/v1/files/${file.id}/content`, org);
      expect(sha256(content.rawPayload)).toBe(sha256(data));
    });

    it('uploads an empty file', async () => {
      const file = await uploadFile(t.app, org, { data: Buffer.alloc(0), filename: 'empty.txt', contentType: 'text/plain' });
      expect(file.size).toBe(0);
      expect(file.sha256).toBe(EMPTY_SHA256);
      const content = await get(`/api/v1/files/${file.id}/content`, org);
      expect(content.statusCode).toBe(200);
      expect(content.headers['content-length']).toBe('0');
      expect(content.rawPayload.length).toBe(0);
    });

    it.each(['des', 'rc4'])('rejects legacy %s while legacy ciphers are off: 400 ALGORITHM_DISABLED, nothing stored', async (algorithm) => {
      const before = await filesUnder(blobDir());
      expectProblem(await uploadRaw(t.app, org, { data: randomBytes(100), algorithm }), 400, 'ALGORITHM_DISABLED');
      expect(await filesUnder(blobDir())).toEqual(before);
    });

    it('rejects an unknown algorithm: 400 VALIDATION_FAILED naming body.algorithm', async () => {
      expectValidation(await uploadRaw(t.app, org, { data: randomBytes(100), algorithm: 'aes-128-ecb' }), 'body.algorithm');
    });

    it('rejects an upload without a file part', async () => {
      const boundary = 'sfe-no-file';
      const payload = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nhello\r\n--${boundary}--\r\n`);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { ...org.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expectValidation(response, 'body.file');
    });

    it('rejects an unknown multipart field and a file part under another name', async () => {
      expectValidation(
        await uploadRaw(t.app, org, { data: randomBytes(10), fields: [{ name: 'ownerId', value: otherOrg.id }] }),
        'body.ownerId',
      );
      expectProblem(await uploadRaw(t.app, org, { data: randomBytes(10), partName: 'upload' }), 400, 'VALIDATION_FAILED');
    });

    it('rejects a description over 2000 characters', async () => {
      expectValidation(await uploadRaw(t.app, org, { data: randomBytes(10), description: 'd'.repeat(2001) }), 'body.description');
    });

    it('rejects a JSON body with a problem (not multipart)', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/api/v1/files', headers: org.headers, payload: { file: 'x' } });
      expectProblem(response, response.statusCode === 415 ? 415 : 400);
    });

    it('is 401 UNAUTHORIZED anonymously and 403 FORBIDDEN for a consultant; nothing stored', async () => {
      const before = await filesUnder(blobDir());
      expectProblem(await uploadRaw(t.app, null, { data: randomBytes(10) }), 401, 'UNAUTHORIZED');
      expectProblem(await uploadRaw(t.app, con, { data: randomBytes(10) }), 403, 'FORBIDDEN');
      expect(await filesUnder(blobDir())).toEqual(before);
    });
  });

  describe('GET /files', () => {
    it('an organization lists only its own files; a consultant sees the catalog of all', async () => {
      const tag = uniqueName('own');
      const mine = await uploadFile(t.app, org, { data: randomBytes(10), filename: `${tag}-a.bin` });
      const theirs = await uploadFile(t.app, otherOrg, { data: randomBytes(10), filename: `${tag}-b.bin` });

      const orgList = (await get(`/api/v1/files?limit=200`, org)).json<FileList>();
      expect(orgList.items.every((f) => f.ownerId === org.id)).toBe(true);
      expect(orgList.items.map((f) => f.id)).toContain(mine.id);
      expect(orgList.items.map((f) => f.id)).not.toContain(theirs.id);

      const catalog = await get(`/api/v1/files?q=${encodeURIComponent(tag)}`, con);
      expect(catalog.statusCode).toBe(200);
      const ids = catalog.json<FileList>().items.map((f) => f.id);
      expect(ids.sort()).toEqual([mine.id, theirs.id].sort());
      for (const item of catalog.json<FileList>().items) expect(item.myAccess).toBe('none');
      // Each listed item is the file's whole metadata, owner's name included, read either way.
      expect(orgList.items.find((f) => f.id === mine.id)).toEqual(mine);
      const byId = new Map(catalog.json<FileList>().items.map((f) => [f.id, f]));
      expect(byId.get(mine.id)).toEqual({ ...mine, myAccess: 'none' });
      expect(byId.get(theirs.id)).toEqual({ ...theirs, myAccess: 'none' });
      expect(byId.get(theirs.id)?.ownerName).toBe(otherOrg.username);
    });

    it('filters by name with q', async () => {
      const tag = uniqueName('q');
      const alpha = await uploadFile(t.app, org, { data: randomBytes(10), filename: `${tag}-alpha.txt` });
      await uploadFile(t.app, org, { data: randomBytes(10), filename: `${tag}-beta.txt` });
      const hits = (await get(`/api/v1/files?q=${encodeURIComponent(`${tag}-alpha`)}`, org)).json<FileList>();
      expect(hits.items.map((f) => f.id)).toEqual([alpha.id]);
      const none = (await get(`/api/v1/files?q=${encodeURIComponent(`${tag}-gamma`)}`, org)).json<FileList>();
      expect(none).toEqual({ items: [], nextCursor: null });
    });

    it('pages with limit and nextCursor: every file once, nextCursor null at the end', async () => {
      const owner = await newUser(t.app, 'organization');
      const uploaded: string[] = [];
      for (let i = 0; i < 7; i++) uploaded.push((await uploadFile(t.app, owner, { data: randomBytes(5), filename: `p${i}.bin` })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/v1/files?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const response = await get(url, owner);
        expect(response.statusCode, response.body).toBe(200);
        const page: FileList = response.json<FileList>();
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((f) => f.id));
        cursor = page.nextCursor;
        pages++;
        expect(pages).toBeLessThanOrEqual(4);
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...uploaded].sort());
    });

    it('defaults to a page of at most 50 and answers { items, nextCursor }', async () => {
      const response = await get('/api/v1/files', org);
      expect(response.statusCode).toBe(200);
      const body = response.json<FileList>();
      expect(Array.isArray(body.items)).toBe(true);
      expect(body.items.length).toBeLessThanOrEqual(50);
      expect(body).toHaveProperty('nextCursor');
    });

    it('validates limit and unknown query parameters', async () => {
      expectValidation(await get('/api/v1/files?limit=201', org), 'querystring.limit');
      expectValidation(await get('/api/v1/files?limit=0', org), 'querystring.limit');
      expectValidation(await get('/api/v1/files?limit=ten', org), 'querystring.limit');
      expect((await get('/api/v1/files?limit=200', org)).statusCode).toBe(200);
      expectValidation(await get('/api/v1/files?owner=someone', org), 'querystring.owner');
    });

    it('rejects a cursor it never issued: 400 VALIDATION_FAILED naming querystring.cursor', async () => {
      expectValidation(await get('/api/v1/files?cursor=not-a-real-cursor', org), 'querystring.cursor');
    });

    it('shows the consultant myAccess none, pending, approved, denied and revoked', async () => {
      const tag = uniqueName('acc');
      const states = ['none', 'pending', 'approved', 'denied', 'revoked'] as const;
      const files = new Map<string, FileMetadata>();
      for (const state of states) files.set(state, await uploadFile(t.app, org, { data: randomBytes(10), filename: `${tag}-${state}.bin` }));
      const requestFor = async (state: string) => requestAccess(t.app, con, files.get(state)!.id);
      await requestFor('pending');
      await approve(t.app, org, (await requestFor('approved')).id);
      expect((await actOnRequest(t.app, org, (await requestFor('denied')).id, 'deny', { reason: 'no' })).statusCode).toBe(200);
      const revoked = await requestFor('revoked');
      await approve(t.app, org, revoked.id);
      expect((await actOnRequest(t.app, org, revoked.id, 'revoke', {})).statusCode).toBe(200);

      const list = (await get(`/api/v1/files?q=${encodeURIComponent(tag)}`, con)).json<FileList>();
      expect(list.items).toHaveLength(states.length);
      for (const state of states) {
        const id = files.get(state)!.id;
        expect(list.items.find((f) => f.id === id)?.myAccess, state).toBe(state);
        const one = (await get(`/api/v1/files/${id}`, con)).json<FileMetadata>();
        expect(one.myAccess, state).toBe(state);
      }
    });

    it('is 401 UNAUTHORIZED without a token', async () => {
      expectProblem(await get('/api/v1/files', null), 401, 'UNAUTHORIZED');
    });
  });

  describe('GET /files/{id}', () => {
    it('answers the owner and a consultant; another organization gets 404 NOT_FOUND', async () => {
      const file = await uploadFile(t.app, org, { data: randomBytes(10), filename: 'x.bin' });
      expect((await get(`/api/v1/files/${file.id}`, org)).statusCode).toBe(200);
      const seen = await get(`/api/v1/files/${file.id}`, con);
      expect(seen.statusCode).toBe(200);
      expect(seen.json<FileMetadata>()).toMatchObject({ id: file.id, sha256: file.sha256, myAccess: 'none' });
      expectProblem(await get(`/api/v1/files/${file.id}`, otherOrg), 404, 'NOT_FOUND');
      expectProblem(await get(`/api/v1/files/${file.id}`, null), 401, 'UNAUTHORIZED');
    });

    it('is 404 for an unknown id and 400 for a malformed one', async () => {
      expectProblem(await get('/api/v1/files/00000000-0000-4000-8000-000000000000', org), 404, 'NOT_FOUND');
      expectValidation(await get('/api/v1/files/bad.id', org), 'params.id');
      expectValidation(await get(`/api/v1/files/${'a'.repeat(65)}`, org), 'params.id');
      expectValidation(await get('/api/v1/files/%27%20OR%201=1--', org), 'params.id');
    });
  });

  describe('GET /files/{id}/content', () => {
    let data: Buffer;
    let file: FileMetadata;
    beforeAll(async () => {
      data = randomBytes(200_000);
      file = await uploadFile(t.app, org, { data, filename: 'range.bin', contentType: 'application/x-custom' });
    });

    it('answers 200 with Content-Type as uploaded, Content-Disposition attachment and Content-Length', async () => {
      const response = await get(`/api/v1/files/${file.id}/content`, org);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/x-custom');
      expect(response.headers['content-length']).toBe(String(data.length));
      const disposition = parseDisposition(String(response.headers['content-disposition']));
      expect(disposition.type).toBe('attachment');
      expect(disposition.params.get('filename')).toBe('range.bin');
      expect(Buffer.compare(response.rawPayload, data)).toBe(0);
    });

    it('serves Range bytes=a-b as 206 with Content-Range and the exact bytes, within and across segments', async () => {
      // A second file of three segments, so ranges start, end and cross at segment boundaries.
      const S = DEFAULT_SEGMENT_SIZE;
      const long = randomBytes(2 * S + 1000);
      const longFile = await uploadFile(t.app, org, { data: long, filename: 'long.bin' });
      const cases: Array<[FileMetadata, Buffer, number, number]> = [
        [file, data, 0, 0],
        [file, data, 0, 99],
        [file, data, 199_990, 199_999],
        [longFile, long, S - 1, S],
        [longFile, long, S, 2 * S - 1],
        [longFile, long, S - 536, 2 * S + 10],
        [longFile, long, 0, long.length - 1],
        [longFile, long, long.length - 1, long.length - 1],
      ];
      for (const [target, bytes, start, end] of cases) {
        const response = await get(`/api/v1/files/${target.id}/content`, org, { range: `bytes=${start}-${end}` });
        expect(response.statusCode, `${start}-${end}`).toBe(206);
        expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${bytes.length}`);
        expect(response.headers['content-length']).toBe(String(end - start + 1));
        expect(Buffer.compare(response.rawPayload, bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(0);
      }
    });

    it('serves an open-ended bytes=a- and a suffix bytes=-n', async () => {
      const open = await get(`/api/v1/files/${file.id}/content`, org, { range: 'bytes=150000-' });
      expect(open.statusCode).toBe(206);
      expect(open.headers['content-range']).toBe(`bytes 150000-199999/${data.length}`);
      expect(Buffer.compare(open.rawPayload, data.subarray(150_000))).toBe(0);

      const suffix = await get(`/api/v1/files/${file.id}/content`, org, { range: 'bytes=-500' });
      expect(suffix.statusCode).toBe(206);
      expect(suffix.headers['content-range']).toBe(`bytes 199500-199999/${data.length}`);
      expect(suffix.headers['content-length']).toBe('500');
      expect(Buffer.compare(suffix.rawPayload, data.subarray(data.length - 500))).toBe(0);
    });

    it('clamps an end beyond the file to its last byte', async () => {
      const response = await get(`/api/v1/files/${file.id}/content`, org, { range: 'bytes=199000-500000' });
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes 199000-199999/${data.length}`);
      expect(Buffer.compare(response.rawPayload, data.subarray(199_000))).toBe(0);
    });

    it('answers an unsatisfiable range with 416 and Content-Range bytes */size', async () => {
      for (const range of [`bytes=${data.length}-`, `bytes=${data.length + 10}-${data.length + 20}`, 'bytes=-0']) {
        const response = await get(`/api/v1/files/${file.id}/content`, org, { range });
        expectProblem(response, 416);
        expect(response.headers['content-range'], range).toBe(`bytes */${data.length}`);
      }
    });

    it('gives a hostile file name a safe Content-Disposition without header injection', async () => {
      const hostile = '../../evil"\u0007; filename=x.exe; X-Injected: yes \u00fc\u2713%41.txt';
      const uploaded = await uploadFile(t.app, org, { data: Buffer.from('hi'), filename: hostile, extendedFilename: true });
      // eslint-disable-next-line no-control-regex -- control characters are what this checks for
      expect(uploaded.filename).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
      expect(uploaded.filename).toContain('\u00fc\u2713');

      const response = await get(`/api/v1/files/${uploaded.id}/content`, org);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['x-injected']).toBeUndefined();
      const raw = String(response.headers['content-disposition']);
      expect(raw).toMatch(/^[\x20-\x7e]+$/);
      const disposition = parseDisposition(raw);
      expect(disposition.type).toBe('attachment');
      expect([...disposition.params.keys()].sort()).toEqual(['filename', 'filename*']);
      const star = disposition.params.get('filename*')!;
      expect(star).toMatch(/^UTF-8''/i);
      const decoded = decodeURIComponent(star.replace(/^UTF-8''/i, ''));
      expect(decoded).toBe(uploaded.filename);
      expect(decoded).toContain('evil');
      expect(decoded).toContain('%41');
      expect(disposition.params.get('filename')).not.toMatch(/[/\\"]/);
    });

    it('never stores a file name with CR or LF', async () => {
      const response = await uploadRaw(t.app, org, { data: Buffer.from('hi'), filename: 'a\r\nX-Injected: yes.txt', extendedFilename: true });
      if (response.statusCode === 201) expect(response.json<FileMetadata>().filename).not.toMatch(/[\r\n]/);
      else expectProblem(response, 400);
    });

    it('is 403 FORBIDDEN for a consultant, 404 for another organization, 401 anonymously', async () => {
      expectProblem(await get(`/api/v1/files/${file.id}/content`, con), 403, 'FORBIDDEN');
      expectProblem(await get(`/api/v1/files/${file.id}/content`, otherOrg), 404, 'NOT_FOUND');
      expectProblem(await get(`/api/v1/files/${file.id}/content`, null), 401, 'UNAUTHORIZED');
    });
  });

  describe('DELETE /files/{id}', () => {
    it('answers 204; the file is gone, open requests are revoked and a download fails with 403', async () => {
      const data = randomBytes(1000);
      const file = await uploadFile(t.app, org, { data, filename: 'shred.bin' });
      const pendingCon = await newUser(t.app, 'consultant');
      const pending = await requestAccess(t.app, pendingCon, file.id);
      const approved = await approve(t.app, org, (await requestAccess(t.app, con, file.id)).id, { maxDownloads: 5 });
      const blobsBefore = (await filesUnder(blobDir())).length;

      const response = await del(file.id, org);
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');
      expect((await filesUnder(blobDir())).length).toBe(blobsBefore - 1);

      expectProblem(await get(`/api/v1/files/${file.id}`, org), 404, 'NOT_FOUND');
      expectProblem(await get(`/api/v1/files/${file.id}`, con), 404, 'NOT_FOUND');
      expectProblem(await get(`/api/v1/files/${file.id}/content`, org), 404, 'NOT_FOUND');
      const listed = (await get('/api/v1/files?limit=200', org)).json<FileList>().items.map((f) => f.id);
      expect(listed).not.toContain(file.id);

      for (const [session, id] of [
        [pendingCon, pending.id],
        [con, approved.id],
      ] as const) {
        const mine = (await get(`/api/v1/access-requests?fileId=${file.id}`, session)).json<AccessRequestList>();
        expect(mine.items.find((r) => r.id === id)?.status).toBe('revoked');
      }
      const download = await downloadRaw(t.app, con, approved.id, con.password);
      expectProblem(download, 403);
      expect(download.rawPayload.includes(data.subarray(0, 32))).toBe(false);

      expectProblem(await del(file.id, org), 404, 'NOT_FOUND');
    });

    it('the consultant still sees its request on a deleted file, as revoked', async () => {
      const file = await uploadFile(t.app, org, { data: randomBytes(10), filename: 'gone.bin' });
      const request = await requestAccess(t.app, con, file.id);
      expect((await del(file.id, org)).statusCode).toBe(204);
      const list = (await get('/api/v1/access-requests?limit=200', con)).json<AccessRequestList>();
      expect(list.items.find((r) => r.id === request.id)?.status).toBe('revoked');
    });

    it('is 403 FORBIDDEN for a consultant, 404 for another organization, 401 anonymously; the file survives', async () => {
      const file = await uploadFile(t.app, org, { data: randomBytes(10), filename: 'keep.bin' });
      expectProblem(await del(file.id, con), 403, 'FORBIDDEN');
      expectProblem(await del(file.id, otherOrg), 404, 'NOT_FOUND');
      expectProblem(await del(file.id, null), 401, 'UNAUTHORIZED');
      expect((await get(`/api/v1/files/${file.id}`, org)).statusCode).toBe(200);
    });

    it('is 400 for a malformed id', async () => {
      expectValidation(await del('not~an~id', org), 'params.id');
    });
  });
});

describe('files: upload size limit (MAX_UPLOAD_BYTES=1000)', () => {
  let t: TestApp;
  let org: Session;
  beforeAll(async () => {
    t = await buildTestApp({ env: { MAX_UPLOAD_BYTES: '1000' } });
    org = await newUser(t.app, 'organization');
  });
  afterAll(async () => t.cleanup());

  const blobs = () => filesUnder(path.join(t.dataDir, 'blobs'));
  const list = async () => (await t.app.inject({ method: 'GET', url: '/api/v1/files', headers: org.headers })).json<FileList>();

  it('answers 413 PAYLOAD_TOO_LARGE above the limit and stores nothing', async () => {
    expectProblem(await uploadRaw(t.app, org, { data: randomBytes(5000), description: 'too big' }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await uploadRaw(t.app, org, { data: randomBytes(1001) }), 413, 'PAYLOAD_TOO_LARGE');
    expect((await list()).items).toEqual([]);
    expect(await blobs()).toEqual([]);
  });

  it('accepts exactly the limit', async () => {
    const data = randomBytes(1000);
    const file = await uploadFile(t.app, org, { data });
    expect(file.size).toBe(1000);
    expect((await list()).items.map((f) => f.id)).toEqual([file.id]);
    expect(await blobs()).toHaveLength(1);
  });
});
