import type { Db } from '../db/pool.ts';
import { runEvery, type Periodic } from '../lib/periodic.ts';
import { purgeStep } from './repository.ts';
import type { Retention } from './retention.ts';

export interface PurgeSettings extends Retention {
  /** Records deleted per statement (IDEMPOTENCY_PURGE_BATCH). */
  readonly batch: number;
  /** Statements per run at most, so one run is bounded; the next run continues. */
  readonly maxSteps: number;
}

export interface PurgeResult {
  readonly deleted: number;
  /** False: another instance was purging, this run did nothing. */
  readonly ran: boolean;
  /** True: the run stopped at maxSteps with expired records possibly left. */
  readonly more: boolean;
}

/**
 * Deletes expired idempotency records, batch by batch, until a batch comes back short: each step is its own
 * transaction, so no lock is held across steps and traffic interleaves with the purge.
 */
export async function purgeExpired(db: Db, settings: PurgeSettings): Promise<PurgeResult> {
  let deleted = 0;
  for (let step = 0; step < settings.maxSteps; step++) {
    const result = await purgeStep(db, settings, settings.batch);
    if (!result.ran) return { deleted, ran: step > 0, more: false };
    deleted += result.deleted;
    if (result.deleted < settings.batch) return { deleted, ran: true, more: false };
  }
  return { deleted, ran: true, more: true };
}

export type Purger = Periodic;

/**
 * The server's purge: every intervalMs, one run at a time in this process (a slow run delays the next, never
 * overlaps it), one instance at a time across instances (picopay_purge_keys' advisory lock).
 */
export function startPurger(
  db: Db,
  settings: PurgeSettings & { readonly intervalMs: number },
  onRun: (result: PurgeResult | Error) => void,
): Purger {
  return runEvery(settings.intervalMs, () => purgeExpired(db, settings), onRun);
}
