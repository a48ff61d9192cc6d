import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../../db/pool.ts';
import type { CacheEvents } from '../../idempotency/response-cache.ts';
import type { BatchEvents } from '../../payments/batcher.ts';
import { SHED_REASONS, type Shed } from '../app/admission.ts';
import type { AuthEvents } from '../app/auth.ts';
import { holdMetrics, type HoldMetrics } from './hold-metrics.ts';

/** The original service's label values, exactly: every authenticated charge request lands in one of them. */
export type ChargeStatus = 'success' | 'idempotent_hit' | 'insufficient_balance' | 'failed';
/** Credits and refunds: a recorded decline (user or charge not found, refund exceeds charge, ...) is 'failed'. */
export type MoneyStatus = 'success' | 'idempotent_hit' | 'failed';

export interface Metrics {
  readonly registry: Registry;
  readonly chargeRequests: Counter<'status'>;
  readonly chargeLatency: Histogram;
  readonly creditRequests: Counter<'status'>;
  readonly refundRequests: Counter<'status'>;
  readonly refundLatency: Histogram;
  readonly cacheEvents: CacheEvents;
  readonly redisErrors: Counter<'operation'>;
  /** Expired idempotency records this instance's purge deleted. */
  readonly idempotencyPurged: Counter;
  readonly batchEvents: BatchEvents;
  /** Counts a money request refused (or cut short by its deadline) under load: requests_shed_total{reason}. */
  readonly shed: Shed;
  /** Database probes behind GET /ready (at most about one a second, whatever the request rate). */
  readonly readyProbes: Counter;
  /** Failed authentications, and requests answered 429 by the failed-authentication throttle. */
  readonly authEvents: AuthEvents;
  /** Hold requests and the state changes of holds (src/holds). */
  readonly holds: HoldMetrics;
}

// 0.5 ms to 10 s: a cache replay is sub-millisecond, a stuck lock is seconds.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function statusCounter(registry: Registry, name: string, help: string, statuses: readonly string[]): Counter<'status'> {
  const counter = new Counter({ name, help, labelNames: ['status'] as const, registers: [registry] });
  // Series exist from the start, so a rate() over them never begins with a gap.
  for (const status of statuses) counter.inc({ status }, 0);
  return counter;
}

function latency(registry: Registry, name: string, help: string): Histogram {
  return new Histogram({ name, help, buckets: LATENCY_BUCKETS, registers: [registry] });
}

function poolGauge(registry: Registry, pool: Db): void {
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting requests)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

function shedCounter(registry: Registry): Shed {
  const counter = new Counter({
    name: 'requests_shed_total',
    help: 'Money requests answered 503 under load, by reason (inflight, event_loop, queue: refused before any work; deadline: outcome_unknown)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of SHED_REASONS) counter.inc({ reason }, 0);
  return (reason) => counter.inc({ reason });
}

function batchEvents(registry: Registry, shed: Shed): BatchEvents {
  const batchSize = new Histogram({
    name: 'charge_batch_size',
    help: 'Charges per group-committed transaction (BATCH_ENABLED)',
    buckets: [2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const batchRetries = new Counter({
    name: 'charge_batch_retries_total',
    help: 'Batches run a second time after a deadlock or serialization failure',
    registers: [registry],
  });
  return { batch: (size) => batchSize.observe(size), retry: () => batchRetries.inc(), shed: () => shed('queue') };
}

function authEvents(registry: Registry): AuthEvents {
  const failures = new Counter({
    name: 'auth_failures_total',
    help: 'Requests to authenticated routes with a missing or invalid API key',
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'auth_throttled_total',
    help: 'Requests answered 429 because their address exceeded AUTH_FAILURE_LIMIT failed authentications',
    registers: [registry],
  });
  return { failed: () => failures.inc(), throttled: () => throttled.inc() };
}

function cacheEvents(registry: Registry): CacheEvents {
  const cacheLookups = new Counter({
    name: 'idempotency_cache_lookups_total',
    help: 'Idempotency cache lookups by layer (memory, redis) and result (hit, miss, mismatch, rejected, error, skipped)',
    labelNames: ['layer', 'result'] as const,
    registers: [registry],
  });
  const cacheRejected = new Counter({
    name: 'idempotency_cache_rejected_total',
    help: 'Redis cache entries rejected by verification (bad_signature, malformed): never replayed',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['bad_signature', 'malformed']) cacheRejected.inc({ reason }, 0);
  return {
    lookup: (layer, result) => cacheLookups.inc({ layer, result }),
    rejected: (reason) => cacheRejected.inc({ reason }),
  };
}

/** A registry per app, so two apps in one process (tests) never share counters. No label carries an id or a key. */
export function createMetrics(pool: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const redisErrors = new Counter({
    name: 'redis_errors_total',
    help: 'Redis commands that failed or timed out, by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  poolGauge(registry, pool);
  const shed = shedCounter(registry);
  return {
    registry,
    chargeRequests: statusCounter(
      registry,
      'charge_requests_total',
      'Charge requests that passed authentication, by outcome',
      ['success', 'idempotent_hit', 'insufficient_balance', 'failed'],
    ),
    chargeLatency: latency(
      registry,
      'charge_request_latency_seconds',
      'Charge request latency in seconds, from arrival to response',
    ),
    creditRequests: statusCounter(
      registry,
      'credit_requests_total',
      'Credit requests that passed authentication, by outcome',
      [],
    ),
    refundRequests: statusCounter(
      registry,
      'refund_requests_total',
      'Refund requests that passed authentication, by outcome',
      ['success', 'idempotent_hit', 'failed'],
    ),
    refundLatency: latency(
      registry,
      'refund_request_latency_seconds',
      'Refund request latency in seconds, from arrival to response',
    ),
    cacheEvents: cacheEvents(registry),
    redisErrors,
    idempotencyPurged: new Counter({
      name: 'idempotency_records_purged_total',
      help: 'Expired idempotency records deleted by this instance (IDEMPOTENCY_RETENTION)',
      registers: [registry],
    }),
    batchEvents: batchEvents(registry, shed),
    shed,
    authEvents: authEvents(registry),
    holds: holdMetrics(registry),
    readyProbes: new Counter({
      name: 'ready_probes_total',
      help: 'Database probes run for GET /ready (refreshed at most once a second)',
      registers: [registry],
    }),
  };
}
