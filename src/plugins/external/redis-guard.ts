import type { RedisClient } from './redis.ts';
import { createBackoff } from '../../lib/backoff.ts';

/**
 * Decides whether Redis is worth asking right now. After a failure it is skipped for a back-off period (1 s doubling
 * to 30 s), so a dead or slow Redis costs nothing per request; the first success closes it again. Shared by every
 * Redis user (idempotency cache, rate limiter) so they learn from each other's failures. A single Redis and a Redis
 * Cluster client both report `status === 'ready'` once usable (for a cluster: slots known, a node reachable).
 */
export interface RedisGuard {
  readonly redis: RedisClient | undefined;
  usable(): boolean;
  failed(operation: string, error: unknown): void;
  succeeded(): void;
  state(): 'up' | 'down' | 'disabled';
}

export function createRedisGuard(
  redis: RedisClient | undefined,
  onFailure: (operation: string, error: unknown) => void,
  now: () => number = Date.now,
): RedisGuard {
  const backoff = createBackoff(now);
  return {
    redis,
    usable: () => redis !== undefined && redis.status === 'ready' && backoff.allowsCall(),
    failed(operation, error) {
      backoff.failed();
      onFailure(operation, error);
    },
    succeeded() {
      backoff.succeeded();
    },
    state() {
      if (redis === undefined) return 'disabled';
      return redis.status === 'ready' ? 'up' : 'down';
    },
  };
}
