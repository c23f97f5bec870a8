import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Record<string, unknown>;
/** pino's loggers answer this; Fastify's logger type does not declare it. */
type LevelAwareLogger = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

const isLevelAware = (logger: FastifyBaseLogger): logger is LevelAwareLogger =>
  typeof (logger as Partial<LevelAwareLogger>).isLevelEnabled === 'function';

/**
 * `request.log` without a pino child per request. Fastify gives every request a child
 * logger bound to its id; with our redaction paths (wildcards) pino runs the redacting
 * stringifier over those bindings as it builds the child, which cost ~4% of a small
 * JSON request's CPU, on every request, though most requests log nothing but their
 * access line. This one builds the same child on its first line at an enabled level,
 * so what is written, when something is, is what Fastify's child writes.
 */
class RequestLogger {
  readonly #parent: LevelAwareLogger;
  readonly #bindings: Bindings;
  #child: LevelAwareLogger | null = null;

  constructor(parent: LevelAwareLogger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  /** An info line with `fields`: through the child if there is one, else the same JSON without building it. */
  infoWithoutChild(fields: Bindings, message: string): void {
    if (this.#child !== null) this.#child.info(fields, message);
    else if (this.#parent.isLevelEnabled('info')) this.#parent.info({ ...this.#bindings, ...fields }, message);
  }

  #write(level: Level, args: unknown[]): void {
    if (this.#child === null && !this.#parent.isLevelEnabled(level)) return;
    (this.#logger()[level] as (...values: unknown[]) => void)(...args);
  }

  #logger(): LevelAwareLogger {
    return (this.#child ??= this.#parent.child(this.#bindings) as LevelAwareLogger);
  }
}

/**
 * Fastify's `childLoggerFactory`: see RequestLogger. A route with its own log level or
 * serializers (options not empty) gets its child at once, as does a logger that cannot
 * say which levels it writes; so whether a level is enabled
 * is always asked of the logger that would write the line.
 */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: object): FastifyBaseLogger {
  if (Object.keys(options).length > 0 || !isLevelAware(logger)) return logger.child(bindings, options);
  return new RequestLogger(logger, bindings) as unknown as FastifyBaseLogger;
}

/**
 * A request's info line (the access line): on one of ours without building its child;
 * on a route's own child (its level, its serializers) through that child, as Fastify would.
 */
export function logRequestInfo(log: FastifyBaseLogger, fields: Bindings, message: string): void {
  if (log instanceof RequestLogger) log.infoWithoutChild(fields, message);
  else log.info(fields, message);
}
