// One fault under load, the way every failover test runs it: PicoPay against the cluster's HAProxy ports, four fresh
// users, load until 100 charges were acknowledged, the fault, load until the cluster has recovered and 100 more
// charges were acknowledged after it, then every undecided key retried to a decision.
import { createFundedUser, startServer, type ServerProcess } from '../../reliability/harness.ts';
import { waitUntil, type HaCluster } from './cluster.ts';
import { startLoad, type Load, type Op } from './load.ts';

export const SEEDED_MINOR = 1_000_000;

/** PicoPay with the write port as DATABASE_URL and the read port as DATABASE_REPLICA_URL. */
export function startPicoPay(cluster: HaCluster): Promise<ServerProcess> {
  return startServer({
    DATABASE_URL: cluster.databaseUrl,
    DATABASE_REPLICA_URL: cluster.replicaUrl,
    DB_CONNECT_TIMEOUT_MS: '1000',
    MEMORY_CACHE_ENTRIES: '0', // no Redis either: every replay is answered by the leader
  });
}

/** Load until `count` new charges sent since `since` were acknowledged (bounded). */
const ackedSince = (load: Load, since: number, count: number, timeoutMs = 60_000): Promise<number> =>
  waitUntil(
    `${count} charges acknowledged`,
    timeoutMs,
    async () => load.acked(since).length >= count && load.acked(since).length,
  );

export interface FaultRun {
  readonly load: Load;
  readonly users: number[];
  /** Keys that had no decisive answer when the load stopped, retried with the same Idempotency-Key. */
  readonly retried: number;
  /** From the start of the fault to the first new charge acknowledged that was sent after it. */
  readonly windowMs: number;
  /** Operations answered within that window. */
  readonly during: readonly Op[];
}

/**
 * `fault` breaks something and resolves once done; `recovered` says when the cluster is whole enough to expect
 * writes again (the test's own condition: a new leader, the old one back, ...).
 */
export async function underLoad(
  server: ServerProcess,
  fault: () => Promise<unknown>,
  recovered: () => Promise<boolean>,
): Promise<FaultRun> {
  const users: number[] = [];
  for (let i = 0; i < 4; i++) users.push(await createFundedUser(server.url, String(SEEDED_MINOR / 100)));
  const load = startLoad(server.url, users);
  try {
    await ackedSince(load, 0, 100);
    const faultAt = performance.now();
    await fault();
    const faultDone = performance.now();
    await waitUntil('the cluster to recover', 90_000, recovered);
    const first = await waitUntil(
      'a new charge acknowledged after the fault',
      90_000,
      async () => load.acked(faultDone)[0],
    );
    await ackedSince(load, first.endedAt, 100);
    await load.stop();
    const retried = await load.settle();
    const during = load.ops.filter((o) => o.endedAt >= faultAt && o.endedAt <= first.endedAt);
    return { load, users, retried, windowMs: Math.round(first.endedAt - faultAt), during };
  } finally {
    await load.stop();
  }
}

/** The facts every summary line reports. */
export function runFacts(run: FaultRun): Record<string, unknown> {
  return {
    faultToFirstNewChargeMs: run.windowMs,
    status503DuringWindow: run.during.filter((o) => o.reply.status === 503).length,
    requests: run.load.ops.length,
    keysRetriedAfter: run.retried,
  };
}
