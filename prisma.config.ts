import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const root = path.dirname(fileURLToPath(import.meta.url));

// `prisma generate` needs no schema engine, but the CLI insists on having one; point it
// at a stub that explains how migrations run here (prisma/README.md).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, 'prisma/scripts/schema-engine-stub.sh');

export default defineConfig({
  schema: path.join(root, 'prisma/schema.prisma'),
  migrations: { path: path.join(root, 'prisma/migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? `file:${path.join(root, 'data/sfe.db')}`,
  },
});
