/**
 * prisma/postgresql/schema.prisma is prisma/schema.prisma with another datasource
 * provider and client output: Prisma fixes the provider per schema file, and the
 * generated client (its query compiler) per provider. Written, never edited by hand:
 *
 *   tsx prisma/scripts/postgres-schema.ts write   # after editing prisma/schema.prisma
 *   tsx prisma/scripts/postgres-schema.ts check   # exit 1 when the committed copy is stale
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = path.join(root, 'prisma/schema.prisma');
const TARGET = path.join(root, 'prisma/postgresql/schema.prisma');

const HEADER =
  '// GENERATED from ../schema.prisma by prisma/scripts/postgres-schema.ts: edit that file,\n' +
  '// then run `pnpm db:generate`. Only the provider and the client output differ.\n\n';

export function postgresSchemaFrom(sqliteSchema: string): string {
  const replaceOnce = (text: string, from: RegExp, to: string): string => {
    if (!from.test(text)) throw new Error(`prisma/schema.prisma: expected ${String(from)}`);
    return text.replace(from, to);
  };
  let schema = replaceOnce(sqliteSchema, /(datasource db \{\s*provider\s*=\s*)"sqlite"/, '$1"postgresql"');
  schema = replaceOnce(schema, /(output\s*=\s*)"\.\.\/apps\/api\/src\/generated\/prisma"/, '$1"../../apps/api/src/generated/prisma-postgresql"');
  return HEADER + schema;
}

async function main(command: string | undefined): Promise<number> {
  const expected = postgresSchemaFrom(await readFile(SOURCE, 'utf8'));
  if (command === 'write') {
    await writeFile(TARGET, expected, 'utf8');
    return 0;
  }
  if (command === 'check') {
    const actual = await readFile(TARGET, 'utf8').catch(() => '');
    if (actual === expected) return 0;
    process.stderr.write(`${path.relative(root, TARGET)} is not derived from prisma/schema.prisma; run 'pnpm db:generate'\n`);
    return 1;
  }
  process.stderr.write('usage: postgres-schema.ts write | check\n');
  return 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv[2]);
}
