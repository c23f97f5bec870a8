import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/client.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { newAdmin, openDb } from '../helpers/admin.ts';
import { bearer, expectProblem, newUser } from '../helpers/fixtures.ts';

/** API.md's Admin > Accounts and incidents, Audit and Alerts routes. */
const CONTRACT: Array<[method: string, path: string]> = [
  ['get', '/api/v1/admin/users'],
  ['post', '/api/v1/admin/users/{id}/disable'],
  ['post', '/api/v1/admin/users/{id}/enable'],
  ['post', '/api/v1/admin/users/{id}/revoke-grants'],
  ['delete', '/api/v1/admin/users/{id}/private-key'],
  ['post', '/api/v1/admin/users/{id}/incident'],
  ['delete', '/api/v1/admin/users/{id}'],
  ['get', '/api/v1/admin/audit'],
  ['get', '/api/v1/admin/audit/report'],
  ['get', '/api/v1/admin/audit/verify'],
  ['get', '/api/v1/admin/alerts'],
  ['post', '/api/v1/admin/alerts/{id}/ack'],
];

interface OpenApiDocument {
  paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>>;
}

/** Every admin route of the OpenAPI document, against every role: generated, so a new route cannot skip the check. */
describe('admin routes x roles', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  let doc: OpenApiDocument;
  let sessions: Record<'organization' | 'consultant' | 'admin', Session>;
  const routes: Array<{ method: string; path: string }> = [];

  beforeAll(async () => {
    t = await buildTestApp();
    prisma = openDb(t);
    doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<OpenApiDocument>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/admin/')) continue;
      for (const method of Object.keys(methods)) routes.push({ method, path });
    }
    sessions = {
      organization: await newUser(t.app, 'organization'),
      consultant: await newUser(t.app, 'consultant'),
      admin: await newAdmin(t, prisma),
    };
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('documents every admin route of API.md, with bearer security and a response schema', () => {
    for (const [method, path] of CONTRACT) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(operation?.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(operation?.responses ?? {})).toContain('200');
    }
    expect(routes.length).toBeGreaterThanOrEqual(CONTRACT.length);
  });

  const url = (path: string) => path.replace('{id}', '00000000-0000-4000-8000-000000000000');
  const call = (route: { method: string; path: string }, session: Session | null) =>
    t.app.inject({
      method: route.method.toUpperCase() as 'GET' | 'POST' | 'DELETE',
      url: url(route.path),
      headers: session ? bearer(session.accessToken) : {},
      ...(route.method === 'post' ? { payload: {} } : {}),
    });

  it('answers 401 to an anonymous caller on every admin route', async () => {
    for (const route of routes) expectProblem(await call(route, null), 401, 'UNAUTHORIZED');
  });

  it('answers 403 to every role but admin on every admin route', async () => {
    for (const role of ['organization', 'consultant'] as const) {
      for (const route of routes) expectProblem(await call(route, sessions[role]), 403, 'FORBIDDEN');
    }
  });

  it('lets an admin through on every admin route', async () => {
    for (const route of routes) {
      const response = await call(route, sessions.admin);
      expect([401, 403], `${route.method} ${route.path}: ${response.body}`).not.toContain(response.statusCode);
    }
  });

  it('serves the audit public key to anyone', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/audit/public-key' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ algorithm: 'Ed25519', publicKeyPem: expect.stringMatching(/BEGIN PUBLIC KEY/) });
  });
});
