// The settings of bounded resources — idempotency retention, overload bounds, holds — read like the rest of
// src/config.ts (validated, a bad value stops start-up naming the variable).
import { ConfigError, duration, int, read, type Env } from './lib/env.ts';

const DAY_MS = 86_400_000;

export interface RetentionSettings {
  /** How long an idempotency record replays; older, its key is new again (IDEMPOTENCY_RETENTION). */
  readonly idempotencyRetentionMs: number;
  /** The same for declines about a user or charge that does not exist; at most idempotencyRetentionMs. */
  readonly idempotencyDeclineRetentionMs: number;
  /** How often the server purges expired records; 0: never (run `picopay purge` instead). */
  readonly idempotencyPurgeIntervalMs: number;
  /** Records deleted per purge statement: small, so each statement's locks and WAL stay small. */
  readonly idempotencyPurgeBatch: number;
}

export function retentionFrom(env: Env): RetentionSettings {
  const retention = duration(env, 'IDEMPOTENCY_RETENTION', 30 * DAY_MS, 1000, 3650 * DAY_MS);
  return {
    idempotencyRetentionMs: retention,
    // A decline cannot outlive the retention of every record.
    idempotencyDeclineRetentionMs: Math.min(
      duration(env, 'IDEMPOTENCY_DECLINE_RETENTION', DAY_MS, 1000, 3650 * DAY_MS),
      retention,
    ),
    idempotencyPurgeIntervalMs: int(env, 'IDEMPOTENCY_PURGE_INTERVAL_MS', 60_000, 0, 86_400_000),
    idempotencyPurgeBatch: int(env, 'IDEMPOTENCY_PURGE_BATCH', 1000, 1, 100_000),
  };
}

export interface OverloadBounds {
  /** Money requests (charges, refunds, credits) in progress per process before new ones get 503 overloaded; 0: off. */
  readonly maxInflightRequests: number;
  /** Mean event-loop delay (ms, sampled each second) above which money requests get 503 overloaded; 0: off. */
  readonly maxEventLoopDelayMs: number;
  /** Charges waiting in the batcher for one account before more get 503 overloaded. */
  readonly maxQueuedChargesPerAccount: number;
  /** A money request not answered by then gets 503 outcome_unknown (its work may still commit; retry replays it). */
  readonly requestDeadlineMs: number;
}

// Sizing: docs/DEPLOY.md "Sizing the bounds". Each default is several times an ordinary burst (1,000 requests in
// flight, 100 charges on one account) and well under what one process holds for a second at full throughput.
export function overloadBoundsFrom(env: Env): OverloadBounds {
  return {
    maxInflightRequests: int(env, 'MAX_INFLIGHT_REQUESTS', 1100, 0, 1_000_000),
    maxEventLoopDelayMs: int(env, 'MAX_EVENT_LOOP_DELAY_MS', 2000, 0, 60_000),
    maxQueuedChargesPerAccount: int(env, 'MAX_QUEUED_CHARGES_PER_ACCOUNT', 1000, 1, 1_000_000),
    requestDeadlineMs: int(env, 'REQUEST_DEADLINE_MS', 6000, 50, 600_000),
  };
}

export interface HoldSettings {
  /** Holds: expiry when a request gives none, the longest allowed, how often expired holds are swept (0: never). */
  readonly holdDefaultExpirySeconds: number;
  readonly holdMaxExpirySeconds: number;
  readonly holdSweepIntervalMs: number;
}

export function holdsFrom(env: Env): HoldSettings {
  return {
    holdDefaultExpirySeconds: int(env, 'HOLD_DEFAULT_EXPIRY_SECONDS', 604_800, 1, 31_536_000),
    holdMaxExpirySeconds: int(env, 'HOLD_MAX_EXPIRY_SECONDS', 2_592_000, 1, 31_536_000),
    holdSweepIntervalMs: int(env, 'HOLD_SWEEP_INTERVAL_MS', 10_000, 0, 86_400_000),
  };
}

export interface EventSettings {
  /** How often the server publishes committed events (gives them their seq); 0: never (another instance does). */
  readonly eventsSequenceIntervalMs: number;
  /** How long an event stays in the feed; older ones are purged with the idempotency records (EVENT_RETENTION). */
  readonly eventRetentionMs: number;
}

export function eventsFrom(env: Env): EventSettings {
  return {
    eventsSequenceIntervalMs: int(env, 'EVENTS_SEQUENCE_INTERVAL_MS', 100, 0, 60_000),
    // 30 days: well past the webhook retry period (3 days), so an event is never purged while it may be retried.
    eventRetentionMs: duration(env, 'EVENT_RETENTION', 30 * DAY_MS, 1000, 3650 * DAY_MS),
  };
}

export interface WebhookSettings {
  /** `host` or `host:port` entries (lower case) a webhook URL may point at even when private or loopback. */
  readonly webhookUrlAllowlist: readonly string[];
  /** The first retry delay of a failed delivery; later ones double (with jitter) up to an hour. */
  readonly webhookRetryBaseMs: number;
  /** How long an endpoint may keep failing before it is disabled (WEBHOOK_RETRY_PERIOD). */
  readonly webhookRetryPeriodMs: number;
  /** A delivery's whole-request bound: connect, send, answer. */
  readonly webhookTimeoutMs: number;
  /** How often each instance looks for endpoints with events due; 0: this instance relays nothing. */
  readonly webhookRelayIntervalMs: number;
  /** Endpoints one instance delivers to at the same time. */
  readonly webhookConcurrency: number;
  /** How long delivery attempts stay in the log (GET /webhook-endpoints/{id}/deliveries). */
  readonly webhookAttemptRetentionMs: number;
}

const ALLOWLIST_ENTRY = /^([a-z0-9_.-]{1,253}|\[[0-9a-f:.]{2,45}\])(:\d{1,5})?$/;

function allowlistFrom(env: Env): string[] {
  const raw = read(env, 'WEBHOOK_URL_ALLOWLIST');
  if (raw === undefined) return [];
  return raw.split(',').map((item, index) => {
    const entry = item.trim().toLowerCase();
    if (!ALLOWLIST_ENTRY.test(entry))
      throw new ConfigError(`WEBHOOK_URL_ALLOWLIST entry ${index + 1} must be host or host:port`);
    return entry;
  });
}

export function webhooksFrom(env: Env): WebhookSettings {
  return {
    webhookUrlAllowlist: allowlistFrom(env),
    webhookRetryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 1, 3_600_000),
    webhookRetryPeriodMs: duration(env, 'WEBHOOK_RETRY_PERIOD', 3 * DAY_MS, 0, 30 * DAY_MS),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    webhookRelayIntervalMs: int(env, 'WEBHOOK_RELAY_INTERVAL_MS', 1000, 0, 3_600_000),
    webhookConcurrency: int(env, 'WEBHOOK_CONCURRENCY', 10, 1, 1000),
    webhookAttemptRetentionMs: duration(env, 'WEBHOOK_ATTEMPT_RETENTION', 30 * DAY_MS, 1000, 3650 * DAY_MS),
  };
}
