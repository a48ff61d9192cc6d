import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/pool.ts';
import { deliver } from './deliver.ts';
import type { WebhookMetrics } from './metrics.ts';
import { webhookRepository as repo, type Claimed, type Delivered, type PublishedEvent } from './repository.ts';

/** Events delivered per claim; then the endpoint is released (and claimed again at once if more are waiting). */
const BATCH = 100;
const MAX_RETRY_MS = 3_600_000;
/** The attempt log's purge: at most this many rows, at most once a minute per instance. */
const PURGE_BATCH = 1000;
const PURGE_EVERY_MS = 60_000;

export interface RelaySettings {
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryPeriodMs: number;
  readonly allowlist: readonly string[];
  readonly attemptRetentionMs: number;
}

export interface Relay {
  /**
   * Stops claiming, cuts deliveries in flight short (not recorded: they are delivered again), records the successes
   * held before them and releases leases.
   */
  stop(): Promise<void>;
}

/** The Standard Webhooks payload: the event's type, when it happened, and the object as the API returned it. */
export const payloadOf = (e: PublishedEvent): string =>
  `{"type":${JSON.stringify(e.type)},"timestamp":${JSON.stringify(e.created_at.toISOString())},"data":${e.data}}`;

/** The webhook-id: one per event, the same on every retry and from every instance, so receivers can dedupe. */
export const webhookIdOf = (seq: bigint): string => `evt_${seq}`;

/** Exponential backoff with jitter: base·2^failures, capped at an hour, then a random 50-100 % of it. */
export function retryDelayMs(baseMs: number, failuresBefore: number): number {
  const ceiling = Math.min(MAX_RETRY_MS, baseMs * 2 ** Math.min(failuresBefore, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
}

interface Context {
  readonly db: Db;
  readonly settings: RelaySettings;
  readonly metrics: WebhookMetrics;
  readonly log: FastifyBaseLogger;
  /** This instance's lease owner name. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly stopping: AbortSignal;
}

/**
 * A claimed endpoint's batch in progress. Its 2xx are held here and recorded in one call (picopay_webhook_record_
 * delivered) at the batch's end, before a failure is recorded, when stopping, and once a delivery timeout has passed
 * since the lease was last renewed (the lease, 2 timeouts + 5 s, then outlasts the next delivery). A crash before
 * that call means those events are delivered again: at least once, receivers deduplicate on webhook-id.
 */
interface Run {
  readonly c: Claimed;
  pending: Delivered[];
  renewedAt: number;
}

/** Records the held successes in one transaction and renews the lease: 'delivered', or 'lost' (stop). */
async function flush(ctx: Context, run: Run): Promise<'delivered' | 'lost'> {
  if (run.pending.length === 0) return 'delivered';
  const done = run.pending;
  const renewing = Date.now();
  run.pending = [];
  const result = await repo.recordDelivered(ctx.db, run.c.endpoint_id, ctx.owner, done, ctx.leaseMs);
  run.renewedAt = renewing;
  return result;
}

/** One POST of one event: 'delivered' (held for the batch's record), 'retry', 'disabled', 'lost', or 'stopped'. */
async function attempt(ctx: Context, run: Run, e: PublishedEvent, failures: number): Promise<string> {
  const { settings, metrics } = ctx;
  const { c } = run;
  const webhookId = webhookIdOf(e.seq);
  const delivery = { url: c.url, secret: c.secret, webhookId, body: payloadOf(e) };
  const options = { timeoutMs: settings.timeoutMs, allowlist: settings.allowlist, signal: ctx.stopping };
  const outcome = await deliver(delivery, options);
  // Cut short by the server stopping: the receiver may or may not have it; it is delivered again after restart.
  if (ctx.stopping.aborted && !outcome.delivered) return 'stopped';
  if (outcome.delivered) {
    metrics.delivery(failures > 0 ? 'retried' : 'delivered');
    run.pending.push({ seq: e.seq, webhookId, status: outcome.status ?? null, durationMs: outcome.durationMs });
    return 'delivered';
  }
  // The successes before this failure are recorded first: the log stays in order and the position reaches them.
  const flushed = await flush(ctx, run);
  const result = await repo.record(ctx.db, {
    endpointId: c.endpoint_id,
    owner: ctx.owner,
    seq: e.seq,
    webhookId,
    status: outcome.status,
    error: outcome.error,
    delivered: false,
    durationMs: outcome.durationMs,
    retryMs: retryDelayMs(settings.retryBaseMs, failures),
    retryPeriodMs: settings.retryPeriodMs,
    leaseMs: ctx.leaseMs,
  });
  metrics.delivery('failed');
  if (result === 'disabled') {
    metrics.disabled();
    ctx.log.warn(
      { endpoint: c.endpoint_id.toString() },
      'webhook endpoint disabled after failing for the retry period',
    );
  }
  return flushed === 'lost' ? 'lost' : result;
}

/** Delivers one claimed endpoint's next events in seq order; true when a full batch went out (more may wait). */
async function runEndpoint(ctx: Context, c: Claimed): Promise<boolean> {
  const run: Run = { c, pending: [], renewedAt: Date.now() };
  let released = false;
  try {
    const { events, newest } = await repo.nextEvents(ctx.db, c, BATCH);
    let failures = c.failures;
    let outcome = 'delivered';
    for (const e of events) {
      if (ctx.stopping.aborted) break;
      if (Date.now() - run.renewedAt >= ctx.settings.timeoutMs) outcome = await flush(ctx, run);
      if (outcome === 'delivered') outcome = await attempt(ctx, run, e, failures);
      if (outcome !== 'delivered') break;
      failures = 0;
    }
    // retry, disabled and lost: the record dropped the lease (or it is another instance's now).
    if (outcome !== 'delivered' && outcome !== 'stopped') return ((released = true), false);
    // The held successes (all of the batch's, or those before a delivery that stopping cut short) are recorded.
    if ((await flush(ctx, run)) === 'lost') return ((released = true), false);
    const complete = outcome === 'delivered' && !ctx.stopping.aborted;
    await repo.release(ctx.db, c.endpoint_id, ctx.owner, complete && events.length < BATCH ? newest : null);
    released = true;
    return complete && events.length === BATCH;
  } catch (error) {
    ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'webhook relay failed');
    return false;
  } finally {
    if (!released) await repo.release(ctx.db, c.endpoint_id, ctx.owner, null).catch(() => undefined);
  }
}

/**
 * Every instance runs one. Each tick claims due endpoints (a lease, FOR UPDATE SKIP LOCKED) up to the free slots of
 * `concurrency`, and delivers each endpoint's events in seq order, one at a time: the lease outlasts a delivery's
 * timeout, so no two instances deliver to one endpoint at once. A failed event is retried before any later one.
 * Successes are recorded in bulk (see Run): one transaction per batch rather than one per event.
 */
export function startRelay(db: Db, settings: RelaySettings, metrics: WebhookMetrics, log: FastifyBaseLogger): Relay {
  const stopping = new AbortController();
  const ctx: Context = {
    db,
    settings,
    metrics,
    log,
    owner: randomUUID(),
    leaseMs: 2 * settings.timeoutMs + 5000,
    stopping: stopping.signal,
  };
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  const track = (work: Promise<unknown>): void => {
    const p = work.then(() => undefined);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  let purged = 0;
  async function purge(): Promise<void> {
    if (Date.now() - purged < PURGE_EVERY_MS) return;
    purged = Date.now();
    await repo.purgeAttempts(db, settings.attemptRetentionMs, PURGE_BATCH).catch((error: unknown) => {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'webhook attempt purge failed');
    });
  }

  async function claim(): Promise<void> {
    await purge();
    const free = settings.concurrency - inFlight.size;
    if (free <= 0 || stopping.signal.aborted) return;
    try {
      for (const c of await repo.claim(db, ctx.owner, ctx.leaseMs, free))
        track(runEndpoint(ctx, c).then((more) => more && schedule(0)));
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'webhook claim failed');
    }
  }

  // Ticks never overlap: one claim at a time, so an instance never holds more than `concurrency` leases.
  let ticking: Promise<void> | undefined;
  function schedule(ms: number): void {
    if (stopping.signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (ticking !== undefined) return schedule(Math.max(ms, 10));
      ticking = claim().finally(() => {
        ticking = undefined;
        schedule(settings.intervalMs);
      });
    }, ms).unref();
  }

  schedule(settings.intervalMs);
  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await ticking;
      await Promise.all([...inFlight]);
    },
  };
}
