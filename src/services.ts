import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import { createPool, type Db } from './db/pool.ts';
import { createReadRouter } from './db/read-router.ts';
import type { RouteDeps } from './deps.ts';
import { startPurger, type PurgeResult } from './idempotency/purge.ts';
import type { Retention } from './idempotency/retention.ts';
import { createCacheSigner } from './idempotency/cache-signature.ts';
import { createResponseCache, type CacheEvents } from './idempotency/response-cache.ts';
import { EPHEMERAL_KEY_NOTE, generateSigningKey } from './idempotency/signing-keys.ts';
import { createChargeBatcher } from './payments/batcher.ts';
import { createLoneChargeGate } from './payments/lone-charges.ts';
import { createPaymentRepository } from './payments/repository.ts';
import { createPaymentService } from './payments/service.ts';
import { createMetrics, type Metrics } from './plugins/external/metrics.ts';
import { createRedis, createRedisCluster, type RedisClient } from './plugins/external/redis.ts';
import { createRedisGuard, type RedisGuard } from './plugins/external/redis-guard.ts';

/** Everything an app owns besides its routes; `close()` releases it all. */
export interface Services {
  readonly deps: RouteDeps;
  readonly redisGuard: RedisGuard;
  close(): Promise<void>;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function redisClient(config: Config, log: FastifyBaseLogger): RedisClient | undefined {
  const options = {
    commandTimeoutMs: config.redisCommandTimeoutMs,
    onError: (error: Error) => log.debug({ err: error.message }, 'redis connection error'),
  };
  if (config.redisClusterNodes !== undefined) return createRedisCluster(config.redisClusterNodes, options);
  return config.redisUrl === undefined ? undefined : createRedis(config.redisUrl, options);
}

/** The server's purge of expired idempotency records, unless IDEMPOTENCY_PURGE_INTERVAL_MS is 0. */
function purgerFor(config: Config, db: Db, retention: Retention, metrics: Metrics, log: FastifyBaseLogger) {
  if (config.idempotencyPurgeIntervalMs === 0) return undefined;
  const settings = {
    ...retention,
    batch: config.idempotencyPurgeBatch,
    // A run's bound (a million records at the default batch); the next run goes on where it stopped.
    maxSteps: 1000,
    intervalMs: config.idempotencyPurgeIntervalMs,
  };
  return startPurger(db, settings, (result: PurgeResult | Error) => {
    if (result instanceof Error) log.warn({ err: result.message }, 'idempotency purge failed; retrying next run');
    else metrics.idempotencyPurged.inc(result.deleted);
  });
}

const REJECTION_LOG_INTERVAL_MS = 60_000;

/**
 * The metric counts every rejected cache entry; the log says so at most once a minute, so someone spraying Redis
 * with forgeries cannot flood the logs. Neither carries the entry, its key or the signing key.
 */
function withRejectionLog(events: CacheEvents, log: FastifyBaseLogger): CacheEvents {
  let lastLogged = -Infinity;
  let unlogged = 0;
  return {
    lookup: (layer, result) => events.lookup(layer, result),
    rejected(reason) {
      events.rejected(reason);
      unlogged++;
      const now = Date.now();
      if (now - lastLogged < REJECTION_LOG_INTERVAL_MS) return;
      log.warn(
        { event: 'cache_entry_rejected', reason, rejected: unlogged },
        'Redis cache entry failed verification; not replayed, served from PostgreSQL (see idempotency_cache_rejected_total)',
      );
      lastLogged = now;
      unlogged = 0;
    },
  };
}

/** The configured signing keys; an app built without any (tests, embedding) signs with a random one. */
function signingKeys(config: Config, log: FastifyBaseLogger): readonly string[] {
  if (config.cacheSigningKeys.length > 0) return config.cacheSigningKeys;
  log.warn(EPHEMERAL_KEY_NOTE);
  return [generateSigningKey()];
}

/** The pools, Redis, caches, metrics and the payment service, wired from the configuration. */
export function createServices(
  config: Config,
  database: { readonly url: string; readonly sessionRole: string | null },
  version: string,
  log: FastifyBaseLogger,
): Services {
  // Every server session runs as the application role when there is one to switch to (see db/grants.sql).
  const sessionRole = database.sessionRole ?? undefined;
  const db = createPool(config, database.url, { sessionRole });
  const redis = redisClient(config, log);
  // Read-only endpoints may use a replica; money and idempotency decisions always use `db`, the primary.
  const reads = createReadRouter(
    config,
    db,
    (error) => log.warn({ err: message(error) }, 'read replica failed; reading from the primary'),
    undefined,
    sessionRole,
  );
  const metrics = createMetrics(db);
  const redisGuard = createRedisGuard(redis, (operation, error) => {
    metrics.redisErrors.inc({ operation });
    log.warn({ operation, err: message(error) }, 'redis unavailable; skipping it');
  });
  const retention = {
    retentionMs: config.idempotencyRetentionMs,
    declineRetentionMs: config.idempotencyDeclineRetentionMs,
  };
  const cache = createResponseCache({
    redis: redisGuard,
    signer: createCacheSigner(signingKeys(config, log)),
    ttlSeconds: config.cacheTtlSeconds,
    memoryEntries: config.memoryCacheEntries,
    retention,
    events: withRejectionLog(metrics.cacheEvents, log),
  });
  const repository = createPaymentRepository(retention);
  const batchSettings = {
    maxSize: config.batchMaxSize,
    maxWaitMs: config.batchMaxWaitMs,
    maxInFlight: config.batchMaxInFlight,
    maxQueuedPerAccount: config.maxQueuedChargesPerAccount,
    // Every queued charge is an in-flight request, except those whose deadline passed (dropped when reached).
    maxQueued: Math.max(config.maxInflightRequests, config.maxQueuedChargesPerAccount),
  };
  const batcher = config.batchEnabled
    ? createChargeBatcher(db, batchSettings, metrics.batchEvents, repository)
    : undefined;
  // Unbatched, a charge waits for a pool connection here (until its deadline) rather than in pg's pool (whose bound
  // is DB_CONNECT_TIMEOUT_MS): a burst is served at the database's pace instead of answered 503 database_unavailable.
  const loneCharges = config.batchEnabled
    ? undefined
    : createLoneChargeGate(config.dbPoolSize, batchSettings.maxQueued, () => metrics.shed('queue'));
  const payments = createPaymentService({ db, cache, batcher, loneCharges, repository });
  const purger = purgerFor(config, db, retention, metrics, log);
  return {
    deps: { config, db, reads, cache, payments, metrics, version },
    redisGuard,
    async close() {
      await purger?.stop();
      redis?.disconnect();
      await reads.end();
      await db.end();
    },
  };
}
