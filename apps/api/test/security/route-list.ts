import type { FastifyInstance, HTTPMethods } from 'fastify';

export interface RouteSpec {
  method: HTTPMethods;
  /** OpenAPI path, e.g. /api/v1/files/{id}. */
  path: string;
  authenticated: boolean;
  hasBody: boolean;
  queryParameters: string[];
}

interface OpenApiOperation {
  security?: unknown[];
  requestBody?: unknown;
  parameters?: Array<{ in: string; name: string }>;
}

/** Every documented route of the app, from the OpenAPI document its route schemas generate. */
export function routesOf(app: FastifyInstance): RouteSpec[] {
  const paths = (app.swagger().paths ?? {}) as Record<string, Record<string, OpenApiOperation>>;
  const routes: RouteSpec[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      routes.push({
        method: method.toUpperCase() as HTTPMethods,
        path,
        authenticated: Array.isArray(operation.security) && operation.security.length > 0,
        hasBody: operation.requestBody !== undefined,
        queryParameters: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  return routes;
}

/** A concrete URL for a route: `{id}` becomes `id` (a real one, or a well-formed unknown one). */
export const urlOf = (route: RouteSpec, id = '00000000-0000-4000-8000-000000000000') => route.path.replace(/\{[^}]+\}/g, id);
