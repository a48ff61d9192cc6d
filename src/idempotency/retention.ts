// How long an idempotency record replays. Older, its key is new again: the database no longer replays it (the claim
// treats it as absent, db/functions/picopay_key_expired.sql) and the caches must not either, so no cache entry may
// outlive the record it copies.

/** IDEMPOTENCY_RETENTION and IDEMPOTENCY_DECLINE_RETENTION, in milliseconds. */
export interface Retention {
  readonly retentionMs: number;
  readonly declineRetentionMs: number;
}

/** The defaults of src/config.ts: 30 days, and 24 hours for declines about a user or charge that does not exist. */
export const DEFAULT_RETENTION: Retention = { retentionMs: 30 * 86_400_000, declineRetentionMs: 86_400_000 };

// The declines kept only for the decline retention: they say something does not exist, which a client can produce
// at will and for free (same list as picopay_key_expired and the partial index of the purge).
const SHORT_LIVED_CODES: ReadonlySet<string> = new Set(['user_not_found', 'charge_not_found']);

/** How long a record with this response code lives from its creation. */
export function lifetimeMs(retention: Retention, code: string | null): number {
  return code !== null && SHORT_LIVED_CODES.has(code) ? retention.declineRetentionMs : retention.retentionMs;
}

/** The two retentions as PostgreSQL interval literals, the last arguments of every money function. */
export function retentionIntervals(retention: Retention): [string, string] {
  return [`${retention.retentionMs} milliseconds`, `${retention.declineRetentionMs} milliseconds`];
}
