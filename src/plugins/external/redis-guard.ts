import type { Redis } from 'ioredis';

const MAX_BACKOFF_MS = 30_000;

/**
 * Decides whether Redis is worth asking right now. After a failure it is skipped for a back-off period (1 s doubling
 * to 30 s), so a dead or slow Redis costs nothing per request; the first success closes it again. Shared by every
 * Redis user (idempotency cache, rate limiter) so they learn from each other's failures.
 */
export interface RedisGuard {
  readonly redis: Redis | undefined;
  usable(): boolean;
  failed(operation: string, error: unknown): void;
  succeeded(): void;
  state(): 'up' | 'down' | 'disabled';
}

export function createRedisGuard(
  redis: Redis | undefined,
  onFailure: (operation: string, error: unknown) => void,
  now: () => number = Date.now,
): RedisGuard {
  let skipUntil = 0;
  let backoffMs = 0;
  return {
    redis,
    usable: () => redis !== undefined && redis.status === 'ready' && now() >= skipUntil,
    failed(operation, error) {
      backoffMs = Math.min(backoffMs === 0 ? 1000 : backoffMs * 2, MAX_BACKOFF_MS);
      skipUntil = now() + backoffMs;
      onFailure(operation, error);
    },
    succeeded() {
      backoffMs = 0;
    },
    state() {
      if (redis === undefined) return 'disabled';
      return redis.status === 'ready' ? 'up' : 'down';
    },
  };
}
