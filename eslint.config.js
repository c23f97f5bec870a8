// Lint, including the layering rules of STYLE.md: they are checked here, not just written down.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const STORAGE_ONLY = {
  group: ['@prisma/*', 'mongoose', 'better-sqlite3', '**/generated/**', 'node:fs', 'node:fs/promises', 'fs', 'fs/promises'],
  message: 'Only repositories, store adapters and the db layer may import Prisma, Mongoose, SQLite or fs.',
};
const SERVER_ONLY = {
  group: ['@sfe/api', '@sfe/crypto', '**/apps/api/**', 'node:*', 'fastify', '@prisma/*', 'mongoose'],
  message: 'Browser code reaches the API only through @sfe/api-client.',
};
// Flat config replaces a rule per file rather than merging it, so each browser block
// restates the server-only ban next to its own.
const browserImports = (...extra) => ({ 'no-restricted-imports': ['error', { patterns: [SERVER_ONLY, ...extra] }] });

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/generated/**',
      '**/test-results/**',
      'data/**',
      '**/coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The crypto core: node:* and its one vetted library; nothing of the app, no env, no I/O frameworks.
    files: ['packages/crypto/src/**/*.{ts,js}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!node:|shamir-secret-sharing$|\\.{1,2}/).*',
              message: '@sfe/crypto may import only node:* modules and shamir-secret-sharing.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: '@sfe/crypto reads no environment.' }],
      'no-console': 'error',
    },
  },
  {
    // The contract is shared with the browser: schemas only.
    files: ['packages/contract/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!typebox(/.*)?$|\\.{1,2}/).*', message: '@sfe/contract may import only typebox.' }] },
      ],
    },
  },
  {
    // Only repositories, store adapters and the db layer touch Prisma, Mongoose, SQLite or fs.
    files: ['apps/api/src/**/*.ts'],
    ignores: [
      'apps/api/src/**/*.repository.ts',
      'apps/api/src/stores/**',
      'apps/api/src/db/**',
      'apps/api/src/config.ts',
      'apps/api/src/config-backends.ts',
      'apps/api/src/app.ts',
      'apps/api/src/cli/**',
    ],
    rules: { 'no-restricted-imports': ['error', { patterns: [STORAGE_ONLY] }] },
  },
  {
    // Services hold rules, never HTTP (and, like every other layer, no storage driver).
    files: ['apps/api/src/modules/**/*.service.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [STORAGE_ONLY, { group: ['fastify', '@fastify/*'], message: 'Services never see request/reply; keep HTTP in routes.' }] },
      ],
    },
  },
  {
    // The SPA reaches the API only through the typed client; never server code.
    files: ['apps/web/src/**/*.{ts,tsx}', 'packages/api-client/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: browserImports(),
  },
  {
    // One-way imports inside the SPA: shared code (lib, components) -> features -> app.
    files: ['apps/web/src/lib/**/*.{ts,tsx}', 'apps/web/src/components/**/*.{ts,tsx}'],
    rules: browserImports({ group: ['**/features/**', '**/app/**'], message: 'lib/ and components/ are shared: they never import features or the app.' }),
  },
  {
    files: ['apps/web/src/features/**/*.{ts,tsx}'],
    rules: browserImports({ group: ['**/app/**'], message: 'Features never import the app shell.' }),
  },
);
