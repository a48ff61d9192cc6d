import type { Config } from './config.ts';
import type { Db } from './db/pool.ts';
import type { ReadRouter } from './db/read-router.ts';
import type { ResponseCache } from './idempotency/response-cache.ts';
import type { PaymentService } from './payments/service.ts';
import type { Metrics } from './plugins/external/metrics.ts';

/** What route plugins are built from: explicit, so tests can build an app around any database and cache. */
export interface RouteDeps {
  readonly config: Config;
  /** The primary: every money operation, idempotency decision and write. */
  readonly db: Db;
  /** Read-only endpoints: the replica when configured and healthy, else the primary. */
  readonly reads: ReadRouter;
  readonly cache: ResponseCache;
  readonly payments: PaymentService;
  readonly metrics: Metrics;
  readonly version: string;
}
