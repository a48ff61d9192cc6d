import { Redis } from 'ioredis';

export interface RedisOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly onError: (error: Error) => void;
}

/**
 * Fail fast, never queue: with the offline queue off and one retry per request, a command against a dead Redis
 * rejects at once; commandTimeout bounds a slow one. ioredis keeps reconnecting in the background.
 */
export function createRedis(options: RedisOptions): Redis {
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: options.commandTimeoutMs,
    enableReadyCheck: true,
    lazyConnect: false,
    // Reconnect with a capped back-off so a dead Redis costs one timer, not a busy loop.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000),
    reconnectOnError: () => false,
  });
  redis.on('error', options.onError);
  return redis;
}
