import type { Db } from '../db/pool.ts';
import { runEvery, type Periodic } from '../lib/periodic.ts';
import { eventRepository } from './repository.ts';

export interface EventPurgeSettings {
  /** EVENT_RETENTION in milliseconds. */
  readonly retentionMs: number;
  /** Events deleted per statement (IDEMPOTENCY_PURGE_BATCH, shared with the idempotency purge). */
  readonly batch: number;
  /** Statements per run at most, so one run is bounded; the next run continues. */
  readonly maxSteps: number;
}

export interface EventPurgeResult {
  readonly deleted: number;
  /** False: another instance was purging events, this run did nothing. */
  readonly ran: boolean;
}

/**
 * Deletes events older than the retention, batch by batch, until a batch comes back short: each step its own
 * transaction (picopay_purge_events), so no lock is held across steps and traffic interleaves.
 */
export async function purgeEvents(db: Db, settings: EventPurgeSettings): Promise<EventPurgeResult> {
  let deleted = 0;
  for (let step = 0; step < settings.maxSteps; step++) {
    const result = await eventRepository.purgeStep(db, settings.retentionMs, settings.batch);
    if (!result.ran) return { deleted, ran: step > 0 };
    deleted += result.deleted;
    if (result.deleted < settings.batch) break;
  }
  return { deleted, ran: true };
}

export type EventPurger = Periodic;

/**
 * The server's event purge, every intervalMs (IDEMPOTENCY_PURGE_INTERVAL_MS, the idempotency purge's cadence): one
 * run at a time here, one instance at a time across instances (the function's advisory lock). A failed run is
 * reported and retried at the next one.
 */
export function startEventPurger(
  db: Db,
  settings: EventPurgeSettings & { readonly intervalMs: number },
  onRun: (result: EventPurgeResult | Error) => void,
): EventPurger {
  return runEvery(settings.intervalMs, () => purgeEvents(db, settings), onRun);
}
