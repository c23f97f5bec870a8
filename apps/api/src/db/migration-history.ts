import type { DiagnoseMigrationHistoryOutput, MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { SchemaEngineError } from './schema-engine-wasm.ts';

/**
 * Reading the engine's view of the migration history and turning the states that need
 * a person (failed, edited, diverged) into MigrationErrors with stable codes.
 */

export type MigrationErrorCode =
  | 'NO_MIGRATIONS'
  | 'MIGRATION_MODIFIED'
  | 'MIGRATION_FAILED'
  | 'HISTORY_DIVERGED'
  | 'RESET_REQUIRED'
  | 'DATA_LOSS'
  | 'UNEXECUTABLE';

/** A state of the migration history that needs a person to decide what to do. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const NO_FILTERS = { externalTables: [], externalEnums: [] };
// P1014: the engine's "table does not exist", which is how 7.10 reports a database
// that has never been migrated instead of "no history".
const MIGRATIONS_TABLE_MISSING = 'P1014';

/** The engine's diagnosis of the history; null for a database that was never migrated. */
export async function diagnose(
  engine: SchemaEngine,
  migrationsList: MigrationList,
): Promise<DiagnoseMigrationHistoryOutput | null> {
  try {
    return await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS });
  } catch (error) {
    if (isMissingMigrationsTable(error)) return null;
    throw error;
  }
}

/**
 * The engine applies each pending migration in its own transaction and records a
 * failure in `_prisma_migrations`; its error names the SQL problem but not the
 * migration, which the history then tells.
 */
export async function applyPending(engine: SchemaEngine, migrationsList: MigrationList): Promise<string[]> {
  try {
    return (await engine.applyMigrations({ migrationsList, filters: NO_FILTERS })).appliedMigrationNames;
  } catch (error) {
    if (!(error instanceof SchemaEngineError) || error.code === 'P3005') throw error;
    const failed = (await diagnose(engine, migrationsList).catch(() => null))?.failedMigrationNames ?? [];
    const which = failed.length > 0 ? `Migration ${failed.join(', ')}` : 'A migration';
    throw new MigrationError('MIGRATION_FAILED', `${which} failed to apply: ${error.message}`, { cause: error });
  }
}

export async function devDiagnostic(engine: SchemaEngine, migrationsList: MigrationList): Promise<void> {
  let action;
  try {
    ({ action } = await engine.devDiagnostic({ migrationsList, filters: NO_FILTERS }));
  } catch (error) {
    if (isMissingMigrationsTable(error)) return;
    throw error;
  }
  if (action.tag === 'reset') {
    throw new MigrationError('RESET_REQUIRED', `The database must be reset: ${action.reason}`);
  }
}

export function assertHistoryDeployable(diagnostic: DiagnoseMigrationHistoryOutput | null): void {
  if (diagnostic === null) return;
  const { failedMigrationNames, editedMigrationNames, history } = diagnostic;
  if (failedMigrationNames.length > 0) {
    throw new MigrationError(
      'MIGRATION_FAILED',
      `Migration ${failedMigrationNames.join(', ')} failed earlier and must be resolved by hand before deploying`,
    );
  }
  if (editedMigrationNames.length > 0) {
    throw new MigrationError(
      'MIGRATION_MODIFIED',
      `Migration ${editedMigrationNames.join(', ')} was modified after it was applied; restore the committed file`,
    );
  }
  if (history !== null && history.diagnostic !== 'databaseIsBehind') {
    throw new MigrationError(
      'HISTORY_DIVERGED',
      'The database has migrations that are not in the migrations folder: ' +
        history.unpersistedMigrationNames.join(', '),
    );
  }
}

function isMissingMigrationsTable(error: unknown): boolean {
  return (
    error instanceof SchemaEngineError &&
    error.code === MIGRATIONS_TABLE_MISSING &&
    error.message.includes('_prisma_migrations')
  );
}
