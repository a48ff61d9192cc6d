import type { Config } from '../config.ts';
import { createBackoff } from '../lib/backoff.ts';
import { createPool, ping, type Db } from './pool.ts';

export type ReadSource = 'replica' | 'primary';

export interface ReadRouter {
  /**
   * Runs a read-only query on the replica when one is configured and not backing off, otherwise (or when the
   * replica fails) on the primary. A replica answer for which `recheck` returns true — "not found" — is asked
   * again on the primary: the replica may simply not have replayed the charge or user yet, and an id PicoPay has
   * just returned must never read as unknown.
   */
  read<T>(work: (db: Db) => Promise<T>, recheck?: (value: T) => boolean): Promise<{ value: T; source: ReadSource }>;
  /** For /ready: asks the replica now, back-off or not (a failure also starts or extends the back-off). */
  replicaState(): Promise<'up' | 'down' | 'disabled'>;
  end(): Promise<void>;
}

// Reads fall back to the primary, so waiting long for the replica only adds latency: half a second at most, for a
// connection or a free pooled client, then the primary answers.
const REPLICA_CONNECT_TIMEOUT_MS = 500;

/**
 * Read-only endpoints through DATABASE_REPLICA_URL when set. Every money operation and every idempotency decision
 * uses the primary pool directly and never comes here. A failing replica (down, restarting, a query cancelled by
 * a recovery conflict, or not yet carrying a just-applied migration) is skipped for a back-off of 1 s doubling to
 * 30 s, like Redis, so an outage costs one failed attempt per period rather than one per request.
 */
export function createReadRouter(
  config: Config,
  primary: Db,
  onReplicaFailure: (error: unknown) => void,
  now: () => number = Date.now,
  // A standby replays the primary's roles, so the replica sessions switch to the same application role.
  sessionRole?: string,
): ReadRouter {
  const url = config.databaseReplicaUrl;
  const replica =
    url === undefined
      ? undefined
      : createPool(config, url, {
          applicationName: 'picopay-replica',
          sessionRole,
          connectTimeoutMs: Math.min(config.dbConnectTimeoutMs, REPLICA_CONNECT_TIMEOUT_MS),
        });
  const backoff = createBackoff(now);
  const failed = (error: unknown): void => {
    backoff.failed();
    onReplicaFailure(error);
  };

  return {
    async read(work, recheck) {
      if (replica !== undefined && backoff.allowsCall()) {
        try {
          const value = await work(replica);
          backoff.succeeded();
          if (recheck === undefined || !recheck(value)) return { value, source: 'replica' };
        } catch (error) {
          // Any error, not only unavailability: the primary gives the authoritative answer (or the same error).
          failed(error);
        }
      }
      return { value: await work(primary), source: 'primary' };
    },

    async replicaState() {
      if (replica === undefined) return 'disabled';
      try {
        await ping(replica);
        backoff.succeeded();
        return 'up';
      } catch (error) {
        failed(error);
        return 'down';
      }
    },

    end: async () => replica?.end(),
  };
}
