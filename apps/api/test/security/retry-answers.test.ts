import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

/**
 * docs/api.md, "When to retry": the OpenAPI document names 429 and 503 on every route
 * that can answer them, so a generated client knows to wait and retry there.
 */
const EXPECTED: Record<string, number[]> = {
  'POST /api/v1/auth/register': [429, 503],
  'POST /api/v1/auth/login': [429],
  'POST /api/v1/auth/refresh': [429],
  'POST /api/v1/access-requests/{id}/download': [429, 503],
  'POST /api/v1/users/me/keys/rotate': [429, 503],
  'POST /api/v1/users/me/password': [429, 503],
  'GET /api/v1/users/me/keys': [503],
  'POST /api/v1/files': [415, 503],
  'GET /api/v1/files/{id}/content': [503],
  'POST /api/v1/access-requests/{id}/approve': [503],
  'POST /api/v1/admin/kek/rotate': [503],
  'DELETE /api/v1/admin/users/{id}/private-key': [503],
  'POST /api/v1/admin/users/{id}/incident': [503],
  'DELETE /api/v1/admin/users/{id}': [503],
};

describe('OpenAPI: retryable answers are documented', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.cleanup());

  it('lists 429/503/415 with a problem body on each route that can answer them', () => {
    type Content = Record<string, { schema?: { required?: string[] } }>;
    const paths = t.app.swagger().paths as Record<string, Record<string, { responses?: Record<string, { content?: Content }> }>>;
    for (const [route, statuses] of Object.entries(EXPECTED)) {
      const [method, path] = route.split(' ') as [string, string];
      const responses = paths[path]?.[method.toLowerCase()]?.responses;
      expect(responses, route).toBeDefined();
      for (const status of statuses) {
        expect(Object.keys(responses ?? {}), `${route} documents ${status}`).toContain(String(status));
        // The body is the problem shape (type, title, status, detail, code).
        const schemas = Object.values(responses?.[String(status)]?.content ?? {}).map((c) => c.schema?.required ?? []);
        expect(schemas.some((required) => required.includes('code') && required.includes('detail')), `${route} ${status} is a problem`).toBe(true);
      }
    }
  });
});
