// One logical call = up to 1 + maxRetries HTTP attempts, all with the same Idempotency-Key, inside one deadline.
import type { Route, RouteContract } from './contract.ts';
import {
  PicoPayApiError,
  PicoPayConnectionError,
  PicoPayError,
  PicoPayInsufficientScopeError,
  PicoPayTimeoutError,
} from './errors.ts';
import type { ApiResult, FieldError } from './types.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RetryInfo {
  /** The attempt that just failed, 1-based. */
  readonly attempt: number;
  readonly error: PicoPayError;
  /** How long the client waits before the next attempt. */
  readonly delayMs: number;
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
}

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Injectable for tests and instrumentation; defaults to the global fetch. */
  readonly fetch?: FetchLike;
  /** Bound on each attempt, response body included. Default 10 000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  readonly maxRetries?: number;
  /** Bound on the whole call, attempts and waits included. Default 30 000. */
  readonly deadlineMs?: number;
  readonly userAgent?: string;
  /** Called (and awaited) before each retry's wait; throwing from it ends the call with that error. */
  readonly onRetry?: (info: RetryInfo) => void | Promise<void>;
}

export interface RequestOptions {
  /** Reuse your own key (e.g. your order id) to make the call idempotent across processes and restarts. */
  readonly idempotencyKey?: string;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly deadlineMs?: number;
  /** Aborting rejects the call with the signal's reason; a money call's outcome is then unknown (see idempotencyKey). */
  readonly signal?: AbortSignal;
}

/** What one call sends: its body and query must be the route's own types (the ones the drift test checks). */
export interface CallInput<B, Q> {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Q;
  readonly body?: B;
}

export const DEFAULTS = {
  timeoutMs: 10_000,
  maxRetries: 3,
  deadlineMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
} as const;

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^retry)), retry counted from 0. */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(DEFAULTS.maxDelayMs, DEFAULTS.baseDelayMs * 2 ** retry));
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface Failed {
  readonly error: PicoPayError;
  /** The request certainly had no effect (connection refused, or rejected before processing). */
  readonly unsent: boolean;
  readonly retryAfterMs: number | undefined;
}

/**
 * Whether another attempt is safe and useful. Keyed calls and reads may repeat anything transient; an unkeyed POST
 * (users.create) only what certainly did nothing, since the server cannot deduplicate it. 4xx decisions are final.
 */
function shouldRetry(route: RouteContract, failed: Failed): boolean {
  const { error } = failed;
  const status = error.status;
  const transient = status === undefined || status === 429 || status >= 500 || error.code === 'idempotency_key_in_use';
  if (!transient) return false;
  return route.idempotent || route.method === 'GET' || failed.unsent;
}

function fillPath(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: unknown): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function problemError(response: Response, text: string, key: string | undefined, attempts: number): PicoPayApiError {
  let body: { code?: unknown; detail?: unknown; errors?: unknown; scope?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // Not a problem document (a proxy's HTML page, say): the status alone decides.
  }
  const init = {
    status: response.status,
    code: typeof body.code === 'string' ? body.code : `http_${response.status}`,
    detail: typeof body.detail === 'string' ? body.detail : response.statusText || `HTTP ${response.status}`,
    requestId: response.headers.get('x-request-id') ?? undefined,
    errors: Array.isArray(body.errors) ? (body.errors as FieldError[]) : [],
    idempotencyKey: key,
    attempts,
  };
  if (init.code === 'insufficient_scope') {
    return new PicoPayInsufficientScopeError({
      ...init,
      scope: typeof body.scope === 'string' ? body.scope : undefined,
    });
  }
  return new PicoPayApiError(init);
}

export class Transport {
  readonly #options: TransportOptions;
  readonly #fetch: FetchLike;

  constructor(options: TransportOptions) {
    if (!options.baseUrl) throw new TypeError('baseUrl is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async call<B, Q, R>(
    route: Route<B, Q, R>,
    input: CallInput<NoInfer<B>, NoInfer<Q>>,
    options: RequestOptions = {},
  ): Promise<ApiResult<R>> {
    const o = this.#options;
    const timeoutMs = options.timeoutMs ?? o.timeoutMs ?? DEFAULTS.timeoutMs;
    const maxRetries = options.maxRetries ?? o.maxRetries ?? DEFAULTS.maxRetries;
    const deadline = Date.now() + (options.deadlineMs ?? o.deadlineMs ?? DEFAULTS.deadlineMs);
    // Generated once per logical call, so every retry is recognisably the same request to the server.
    const key = route.idempotent ? (options.idempotencyKey ?? globalThis.crypto.randomUUID()) : undefined;
    const url = `${o.baseUrl.replace(/\/+$/, '')}${fillPath(route.path, input.params)}${queryString(input.query)}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-api-key': o.apiKey,
      'user-agent': o.userAgent ?? '@picopay/client',
    };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    if (key !== undefined) headers['idempotency-key'] = key;
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);

    for (let attempt = 1; ; attempt++) {
      const limitMs = Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
      const timeout = AbortSignal.timeout(limitMs);
      const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
      let failed: Failed;
      try {
        const response = await this.#fetch(url, { method: route.method, headers, body, signal });
        const text = await response.text();
        // Any 2xx is success: the contract's status is what the drift test checks, not a reason to fail a call.
        if (response.ok) {
          let data: R;
          try {
            data = JSON.parse(text) as R;
          } catch (cause) {
            // Not retried: the operation did happen; the same key replays it if the caller calls again.
            throw new PicoPayApiError({
              status: response.status,
              code: 'invalid_response',
              detail: 'The success response is not JSON',
              requestId: response.headers.get('x-request-id') ?? undefined,
              idempotencyKey: key,
              attempts: attempt,
              cause,
            });
          }
          return {
            data,
            status: response.status,
            replayed: response.headers.get('idempotent-replayed') === 'true',
            requestId: response.headers.get('x-request-id') ?? undefined,
            idempotencyKey: key,
            attempts: attempt,
          };
        }
        const error = problemError(response, text, key, attempt);
        failed = {
          error,
          unsent: response.status === 429,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        };
      } catch (cause) {
        if (cause instanceof PicoPayError) throw cause;
        if (options.signal?.aborted) throw options.signal.reason;
        const code = (cause as { cause?: { code?: unknown } }).cause?.code;
        const init = { idempotencyKey: key, attempts: attempt, cause };
        const error = timeout.aborted
          ? new PicoPayTimeoutError({ ...init, code: 'timeout', detail: `No complete response within ${limitMs} ms` })
          : new PicoPayConnectionError({
              ...init,
              code: 'connection_error',
              detail: typeof code === 'string' ? code : String(cause),
            });
        failed = { error, unsent: code === 'ECONNREFUSED', retryAfterMs: undefined };
      }
      if (attempt > maxRetries || !shouldRetry(route, failed)) throw failed.error;
      const delayMs = failed.retryAfterMs ?? backoffDelay(attempt - 1);
      // No time left for another attempt after the wait: the last answer is the best one there is.
      if (Date.now() + delayMs >= deadline) throw failed.error;
      await o.onRetry?.({
        attempt,
        error: failed.error,
        delayMs,
        method: route.method,
        path: route.path,
        idempotencyKey: key,
      });
      await sleep(delayMs, options.signal);
    }
  }
}
