import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { RedisGuard } from '../external/redis-guard.ts';
import { ProblemError } from '../../lib/errors.ts';

export interface RateLimitSettings {
  /** Requests per window per API key; 0 turns rate limiting off. */
  readonly max: number;
  readonly windowMs: number;
}

type Incr = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Counters kept in this process: used without Redis, and for a request while Redis is down or slow. */
export class LocalCounters {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = Date.now();
    let entry = this.#windows.get(key);
    if (entry === undefined || entry.resetAt <= now) {
      if (this.#windows.size > 100_000) this.#windows.clear(); // bounded memory under key spraying
      entry = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, entry);
    }
    entry.count++;
    return { current: entry.count, ttl: entry.resetAt - now };
  }
}

export const INCR_SCRIPT = `
  local current = redis.call('INCR', KEYS[1])
  if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  return {current, redis.call('PTTL', KEYS[1])}`;

/**
 * A store shared by every instance through Redis when Redis is usable, and local otherwise: the limiter never fails
 * or delays a request because Redis is down (the shared guard skips it after a failure). One bucket per API key
 * across all routes, so `child()` returns the same store.
 */
function storeClass(guard: RedisGuard, defaultWindowMs: number) {
  const local = new LocalCounters();
  return class PicoPayRateLimitStore {
    // The plugin passes the window as a third argument its type declarations leave out.
    incr(key: string, callback: Incr, windowMs: number = defaultWindowMs): void {
      const redis = guard.redis;
      if (redis === undefined || !guard.usable()) {
        callback(null, local.incr(key, windowMs));
        return;
      }
      redis.eval(INCR_SCRIPT, 1, `ratelimit:${key}`, windowMs).then(
        (result) => {
          guard.succeeded();
          const [current, ttl] = result as [number, number];
          callback(null, { current, ttl });
        },
        (error: unknown) => {
          guard.failed('ratelimit', error);
          callback(null, local.incr(key, windowMs));
        },
      );
    }
    child(): PicoPayRateLimitStore {
      return this;
    }
  };
}

/** 429 problem+json with Retry-After, per API key, after authentication (so 401s are not counted against anyone). */
export async function registerRateLimit(
  app: FastifyInstance,
  settings: RateLimitSettings,
  guard: RedisGuard,
): Promise<void> {
  if (settings.max === 0) return;
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: settings.max,
    timeWindow: settings.windowMs,
    store: storeClass(guard, settings.windowMs),
    skipOnError: true,
    // Only callers with a key are limited; public endpoints (health, metrics, docs) are not.
    allowList: (request) => request.caller === undefined,
    keyGenerator: (request) =>
      createHash('sha256').update(String(request.headers['x-api-key'])).digest('hex').slice(0, 24),
    errorResponseBuilder: (_request, context) =>
      new ProblemError('rate_limited', `Rate limit of ${context.max} requests exceeded; retry in ${context.after}`),
  });
}
