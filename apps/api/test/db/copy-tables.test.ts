import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/db/client.ts';
import { TABLES } from '../../src/db/copy.ts';

describe('sfe db copy', () => {
  it('knows a table for every model of the schema, each once (a new model is never left behind)', () => {
    const models = TABLES.map((t) => t.model);
    expect(new Set(models).size).toBe(models.length);
    expect([...models].sort()).toEqual(Object.values(Prisma.ModelName).sort());
  });
});
