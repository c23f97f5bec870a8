import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type * as RuntimeModule from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationAdapterFactory } from './sqlite-migration-adapter.ts';

/**
 * Loads Prisma's wasm schema engine (the same engine the Prisma CLI drives natively)
 * and opens it over a driver adapter. The package's own entry point imports the .wasm
 * file as an ES module, which Node cannot do, so the module is instantiated here by
 * hand with the package's generated JS glue as its import object.
 */

const RUNTIME_SPECIFIER = '@prisma/schema-engine-wasm/schema_engine_bg';
// Prisma's "database did not answer in time"; SQLITE_BUSY arrives as this code.
const DATABASE_TIMEOUT = 'P1008';

type Runtime = typeof RuntimeModule;

// The project compiles against ES2023 + Node types, which do not describe the global
// WebAssembly object; this is the part of it used here.
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
  RuntimeError: abstract new (...args: never[]) => Error;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface PanicRegistry {
  set_message(message: string): void;
}

declare global {
  // Read by the wasm glue when the Rust code panics, right before it traps.
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined;
}

/** A failure reported by the schema engine, with Prisma's error code when it gave one. */
export class SchemaEngineError extends Error {
  override readonly name = 'SchemaEngineError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

let runtimePromise: Promise<Runtime> | undefined;
let activeEngines = 0;
const engineTimers = new Set<NodeJS.Timeout>();
let lastPanic: string | undefined;
// A trapped wasm instance has undefined memory; one panic disables the engine for the
// life of the process rather than risk running migrations on it.
let poisoned = false;

function loadRuntime(): Promise<Runtime> {
  runtimePromise ??= (async () => {
    globalThis.PRISMA_WASM_PANIC_REGISTRY = {
      set_message(message: string) {
        lastPanic = message;
      },
    };
    const runtime: Runtime = await import(RUNTIME_SPECIFIER);
    const gluePath = createRequire(import.meta.url).resolve(RUNTIME_SPECIFIER);
    const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const imports = { './schema_engine_bg.js': withTrackedTimers(runtime) };
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), imports);
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return runtime;
  })();
  // A failed load (missing file) may be retried by a later call.
  runtimePromise.catch(() => {
    runtimePromise = undefined;
  });
  return runtimePromise;
}

/**
 * Some engine calls start a 60 s `setTimeout` that outlives them, which would keep a
 * finished CLI process alive for a minute. Timers the engine starts
 * are remembered and cleared once no engine is open any more: a timer that outlives
 * every operation has nothing left to time out.
 */
function withTrackedTimers(runtime: Runtime): Record<string, unknown> {
  const glue: Record<string, unknown> = { ...runtime };
  for (const name of Object.keys(glue)) {
    if (!name.startsWith('__wbg_setTimeout_')) continue;
    glue[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        engineTimers.delete(timer);
        callback();
      }, ms);
      engineTimers.add(timer);
      return timer;
    };
  }
  return glue;
}

function clearIdleTimers(): void {
  if (activeEngines > 0) return;
  for (const timer of engineTimers) clearTimeout(timer);
  engineTimers.clear();
}

export interface OpenEngineOptions {
  adapterFactory: MigrationAdapterFactory;
  /** Prisma schema files as [path, content]; the path only labels error messages. */
  schemaFiles?: ReadonlyArray<readonly [string, string]>;
  /** Receives the engine's log lines (JSON). Silent when absent. */
  onLog?: (line: string) => void;
}

/**
 * Opens an engine, runs `operation` with it, then frees the engine and closes every
 * SQLite connection it opened, whether the operation succeeded or not.
 */
export async function withSchemaEngine<T>(
  options: OpenEngineOptions,
  operation: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  if (poisoned) {
    throw new SchemaEngineError('The schema engine crashed earlier in this process; restart it', undefined);
  }
  const runtime = await loadRuntime();
  const bound = bindMigrationAwareSqlAdapterFactory(options.adapterFactory);
  const onLog = options.onLog ?? (() => {});
  const datamodels = options.schemaFiles?.map(([file, content]): [string, string] => [file, content]);
  let engine: SchemaEngine | undefined;
  activeEngines += 1;
  try {
    engine = await runtime.SchemaEngine.new({ datamodels }, (line: string) => onLog(line), bound).catch(
      (error: unknown) => {
        throw toSchemaEngineError(error, bound.errorRegistry);
      },
    );
    return await operation(withEngineErrors(engine, bound.errorRegistry));
  } finally {
    engine?.free();
    activeEngines -= 1;
    clearIdleTimers();
    await options.adapterFactory.disposeAll();
  }
}

/**
 * The engine rejects with bare `Error`s; every call through the returned object rejects
 * with a SchemaEngineError instead, so callers can tell engine failures (and their
 * Prisma codes) from their own errors.
 */
function withEngineErrors(engine: SchemaEngine, registry: ErrorRegistry): SchemaEngine {
  return new Proxy(engine, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        try {
          const result: unknown = Reflect.apply(value, target, args);
          if (!(result instanceof Promise)) return result;
          return result.catch((error: unknown) => {
            throw toSchemaEngineError(error, registry);
          });
        } catch (error) {
          throw toSchemaEngineError(error, registry);
        }
      };
    },
  });
}

interface ErrorRegistry {
  consumeError(id: number): { error: unknown } | undefined;
}

function toSchemaEngineError(error: unknown, registry: ErrorRegistry): SchemaEngineError {
  if (error instanceof SchemaEngineError) return error;
  if (error instanceof wasmApi.RuntimeError) {
    poisoned = true;
    const detail = lastPanic ?? error.message;
    return new SchemaEngineError(`The schema engine crashed: ${detail}`, undefined, { cause: error });
  }
  // Engine messages end with a Rust span trace ("   0: schema_engine_wasm::..."): noise
  // for whoever reads the error.
  const message = (error instanceof Error ? error.message : String(error)).split(/\n\s+0: /)[0]?.trim() ?? '';
  // Errors thrown by the adapter cross the wasm boundary as "External error id#N";
  // the original (e.g. SQLITE_BUSY) is kept in the adapter's registry.
  const external = /External error id#(\d+)/.exec(message);
  if (external?.[1] !== undefined) {
    const original = registry.consumeError(Number(external[1]))?.error;
    if (original !== undefined) {
      const originalMessage = original instanceof Error ? original.message : String(original);
      return new SchemaEngineError(`Database error: ${originalMessage}`, undefined, { cause: original });
    }
  }
  const code = engineErrorCode(error);
  if (code === DATABASE_TIMEOUT) {
    // On a local SQLite file the only "timeout" is SQLITE_BUSY: name the likely cause.
    const locked = 'The database file is locked by another connection; stop the app (or other migration) first';
    return new SchemaEngineError(locked, code, { cause: error });
  }
  return new SchemaEngineError(message, code, { cause: error });
}


function engineErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}
