import { Cluster, Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { RedisNode } from '../../config.ts';

/** A single Redis or a Redis Cluster: PicoPay only sends single-key commands, which both accept alike. */
export type RedisClient = Redis | Cluster;

export interface RedisOptions {
  readonly commandTimeoutMs: number;
  readonly onError: (error: Error) => void;
}

// Reconnect with a capped back-off so a dead Redis costs one timer, not a busy loop.
const reconnectDelay = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 6), 5000);

/** Per connection: one retry per command, a bound on connecting and on every command. */
function connectionOptions(commandTimeoutMs: number): IoRedisOptions {
  return {
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: commandTimeoutMs,
    enableReadyCheck: true,
    // Commands issued in one tick (a group-committed batch's cache writes) go out in one socket write.
    enableAutoPipelining: true,
  };
}

/**
 * Fail fast, never queue: with the offline queue off and one retry per request, a command against a dead Redis
 * rejects at once; commandTimeout bounds a slow one. ioredis keeps reconnecting in the background.
 */
export function createRedis(url: string, options: RedisOptions): Redis {
  const redis = new Redis(url, {
    ...connectionOptions(options.commandTimeoutMs),
    enableOfflineQueue: false,
    lazyConnect: false,
    retryStrategy: reconnectDelay,
    reconnectOnError: () => false,
  });
  redis.on('error', options.onError);
  return redis;
}

/**
 * The same fail-fast contract against a Redis Cluster. Every key PicoPay writes is used alone —
 * `idempotency:{client}:{key}` by GET/SET, `ratelimit:{hash}` by a one-key EVAL — so no command spans slots and no
 * hash tag is needed (the braces in the documented name are placeholders, not a hash tag; a client or key containing
 * `{…}` only changes which slot its single key lands on). Nothing waits: the cluster-level offline queue is off, a
 * failed node or CLUSTERDOWN is not retried after a delay (retryDelayOn* 0), at most 3 redirections follow a MOVED
 * after a failover or resharding, and each node command carries commandTimeout (ioredis keeps a per-node queue
 * while a node connects, and that timeout bounds it).
 */
export function createRedisCluster(nodes: readonly RedisNode[], options: RedisOptions): Cluster {
  const cluster = new Cluster(
    nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      enableReadyCheck: true,
      lazyConnect: false,
      scaleReads: 'master',
      maxRedirections: 3,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      retryDelayOnTryAgain: 0,
      retryDelayOnMoved: 0,
      slotsRefreshTimeout: 1000,
      slotsRefreshInterval: 5000,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: connectionOptions(options.commandTimeoutMs),
    },
  );
  cluster.on('error', options.onError);
  return cluster;
}
