import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
}

/** The routes of docs/api.md's Health, Auth, Own keys, Files and Access requests sections. */
const CONTRACT: Array<[method: string, path: string]> = [
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['post', '/api/v1/auth/register'],
  ['post', '/api/v1/auth/login'],
  ['post', '/api/v1/auth/refresh'],
  ['post', '/api/v1/auth/logout'],
  ['get', '/api/v1/auth/me'],
  ['get', '/api/v1/users/me/keys'],
  ['post', '/api/v1/users/me/keys/rotate'],
  ['post', '/api/v1/users/me/password'],
  ['get', '/api/v1/users/{id}/public-key'],
  ['post', '/api/v1/files'],
  ['get', '/api/v1/files'],
  ['get', '/api/v1/files/{id}'],
  ['get', '/api/v1/files/{id}/content'],
  ['delete', '/api/v1/files/{id}'],
  ['post', '/api/v1/files/{id}/access-requests'],
  ['get', '/api/v1/access-requests'],
  ['post', '/api/v1/access-requests/{id}/approve'],
  ['post', '/api/v1/access-requests/{id}/deny'],
  ['post', '/api/v1/access-requests/{id}/revoke'],
  ['post', '/api/v1/access-requests/{id}/download'],
];

describe('OpenAPI document and docs', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    t = await buildTestApp();
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    doc = response.json<OpenApiDocument>();
  });
  afterAll(async () => t.cleanup());

  it('is an OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(typeof doc.paths).toBe('object');
  });

  it.each(CONTRACT)('lists %s %s', (method, path) => {
    expect(Object.keys(doc.paths)).toContain(path);
    expect(Object.keys(doc.paths[path] ?? {})).toContain(method);
  });

  it('documents the problem responses and the bearer scheme of protected routes', () => {
    const me = doc.paths['/api/v1/auth/me']?.get as { security?: unknown[]; responses?: Record<string, unknown> } | undefined;
    expect(me?.security).toBeDefined();
    expect(Object.keys(me?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401']));
    const register = doc.paths['/api/v1/auth/register']?.post as { requestBody?: unknown; responses?: Record<string, unknown> } | undefined;
    expect(register?.requestBody).toBeDefined();
    expect(Object.keys(register?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '409']));
  });

  it('serves the interactive docs at /api/docs', async () => {
    let response = await t.app.inject({ method: 'GET', url: '/api/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      const location = String(response.headers.location);
      const next = new URL(location, 'http://localhost/api/docs');
      response = await t.app.inject({ method: 'GET', url: `${next.pathname}${next.search}` });
    }
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
  });
});
