const FIRST_MS = 1000;
const MAX_MS = 30_000;

/**
 * A dependency that failed is left alone for a while (1 s, doubling to 30 s), so an outage costs one failed call per
 * period instead of one per request; the first success resets it. Shared by the Redis guard and the read replica.
 */
export interface Backoff {
  /** Whether the dependency may be called now: false while backing off after a failure. */
  allowsCall(): boolean;
  failed(): void;
  succeeded(): void;
}

export function createBackoff(now: () => number = Date.now): Backoff {
  let skipUntil = 0;
  let backoffMs = 0;
  return {
    allowsCall: () => now() >= skipUntil,
    failed() {
      backoffMs = Math.min(backoffMs === 0 ? FIRST_MS : backoffMs * 2, MAX_MS);
      skipUntil = now() + backoffMs;
    },
    succeeded() {
      backoffMs = 0;
    },
  };
}
