import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';

type Bindings = Record<string, unknown>;
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
/** Fastify's logger is pino, which has these beyond FastifyBaseLogger. */
type Pino = FastifyBaseLogger & { isLevelEnabled(level: string): boolean; setBindings(bindings: Bindings): void };

/**
 * A request's logger that becomes a pino child only when something is logged at an enabled level. Fastify builds a
 * child logger for every request, and pino serialises its bindings at once: 5 µs a request, most of a replay's
 * budget (docs/BENCHMARKS.md), for lines that at LOG_LEVEL=warn are never written. Log lines are the same as a
 * child's: the parent's settings (level, redaction, stream) and the request's bindings (reqId, then the caller).
 */
export class LazyRequestLogger {
  readonly #parent: Pino;
  readonly #bindings: Bindings;
  #child: Pino | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent as Pino;
    this.#bindings = bindings;
  }

  #real(): Pino {
    this.#child ??= this.#parent.child(this.#bindings) as Pino;
    return this.#child;
  }

  #log(level: Level, args: unknown[]): void {
    if (!this.#parent.isLevelEnabled(level)) return;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it for the spread
    (this.#real()[level] as (...a: unknown[]) => void)(...args);
  }

  /** pino's setBindings: later lines carry these too (auth adds the caller). */
  setBindings(bindings: Bindings): void {
    if (this.#child === undefined) Object.assign(this.#bindings, bindings);
    else this.#child.setBindings(bindings);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }
  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}
  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/**
 * Fastify's childLoggerFactory: a lazy child, unless the route asks for its own level or serializers (then the
 * child must exist at once for them to apply).
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: { level?: string; serializers?: unknown },
): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options as never);
  return new LazyRequestLogger(logger, bindings);
}

/**
 * One access line per request, written when it is answered. Fastify's default is two (incoming, then completed), each
 * a pino serialisation and a write on the request path (#16, docs/BENCHMARKS.md "What each change bought"); this one
 * carries all the two said: the request (method, url, remote address), the status, the time taken, and the caller
 * (auth binds it to the request's logger). A request that never completes (a dropped connection) logs "request
 * errored" as before; Fastify's other lines are unchanged.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error)
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
