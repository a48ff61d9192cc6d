import { pingWritable } from '../db/pool.ts';
import type { RouteDeps } from '../deps.ts';

export interface ReadyState {
  readonly postgres: 'up' | 'down';
  readonly replica: 'up' | 'down' | 'disabled';
}

/** At most one probe per interval: /ready is public and unthrottled, and each probe is a query on the money pool. */
const PROBE_INTERVAL_MS = 1000;

/**
 * The readiness probe behind GET /ready, refreshed at most once a second whatever the request rate: requests within
 * a second of the last probe's start get its result, and requests during a probe share that one probe (a single
 * in-flight refresh). A probe's wait is bounded by the pool's connect and statement timeouts, and the replica's by
 * its own half-second bound.
 */
export function createReadyProbe(deps: RouteDeps, now: () => number = Date.now): () => Promise<ReadyState> {
  let last: { state: ReadyState; startedAt: number } | undefined;
  let inFlight: Promise<ReadyState> | undefined;

  const probe = async (): Promise<ReadyState> => {
    const startedAt = now();
    deps.metrics.readyProbes.inc();
    // The replica is probed alongside: reads fall back to the primary, so its state is information only.
    const [postgres, replica] = await Promise.all([
      pingWritable(deps.db).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      deps.reads.replicaState(),
    ]);
    const state = { postgres, replica };
    last = { state, startedAt };
    return state;
  };

  return () => {
    if (last !== undefined && now() - last.startedAt < PROBE_INTERVAL_MS) return Promise.resolve(last.state);
    inFlight ??= probe().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
