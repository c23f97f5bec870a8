// The REST contract (docs/api.md) as JSON schemas: the API validates and serializes with
// them, the typed client derives its types from them. Nothing here runs on a server.
export * from './common.ts';
export * from './auth.ts';
export * from './keys.ts';
export * from './files.ts';
export * from './access-requests.ts';
export * from './kek.ts';
export const API_PREFIX = '/api/v1';
export * from './admin.ts';
export * from './audit.ts';
export * from './notifications.ts';
export * from './mfa.ts';
