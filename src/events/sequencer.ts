import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/pool.ts';
import type { EventMetrics } from './metrics.ts';
import { eventRepository } from './repository.ts';

/** Events numbered per pass: one short transaction; a backlog takes several passes, run back to back. */
export const SEQUENCE_BATCH = 1000;
/** Back-to-back passes at most before the loop yields for an interval, so a huge backlog cannot starve the process. */
const MAX_PASSES_PER_TICK = 20;

export interface Sequencer {
  /** Stops the loop and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Publishes committed events every `intervalMs` (EVENTS_SEQUENCE_INTERVAL_MS): calls picopay_sequence_events, again
 * at once while passes come back full. Every instance runs one; the function's advisory lock lets one sequence at a
 * time (the others' passes return ran = false and cost one round trip). A failed pass (database down, failover) is
 * logged once per outage and retried at the next tick: an unpublished event waits, it is never lost, since it was
 * committed with its movement.
 */
export function startSequencer(db: Db, intervalMs: number, metrics: EventMetrics, log: FastifyBaseLogger): Sequencer {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    try {
      for (let i = 0; i < MAX_PASSES_PER_TICK && !stopped; i++) {
        const result = await eventRepository.sequence(db, SEQUENCE_BATCH);
        if (result.sequenced > 0) metrics.published.inc(result.sequenced);
        if (result.lagMs !== null) metrics.publicationLag.observe(result.lagMs / 1000);
        if (result.sequenced < SEQUENCE_BATCH) break;
      }
      if (failing) log.info('event sequencer recovered');
      failing = false;
    } catch (error) {
      if (!failing)
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'event sequencing failed');
      failing = true;
    }
  };
  const tick = (): void => {
    running = pass().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs).unref();
    });
  };
  timer = setTimeout(tick, intervalMs).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
