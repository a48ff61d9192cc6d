import { isUnavailable } from '../db/pool.ts';
import { failure, type Failure } from '../lib/errors.ts';
import type { FinalResponse, KeyScope, MoneyResult, OutcomeRow } from '../payments/types.ts';
import type { ResponseCache } from './response-cache.ts';

/** One money operation under an Idempotency-Key: who, which key, and the fingerprint of the request. */
export interface KeyedCall {
  readonly client: string;
  readonly key: string;
  /** SHA-256 of the canonical request, 64 hex digits. */
  readonly fingerprint: string;
}

/**
 * The exactly-once protocol every money operation follows. The cache may only answer with a stored response whose
 * fingerprint matches; everything else goes to PostgreSQL (`decide`: one SQL function call), which claims the key
 * under its unique index and either decides, replays, or says the key is reused or in use. A final response goes to
 * the caches after commit, for no longer than its record's retention. `invalidAmount` explains a refund amount the charge's currency cannot express (nothing was
 * recorded, so nothing is cached).
 */
export async function exactlyOnce(
  cache: ResponseCache,
  call: KeyedCall,
  decide: (scope: KeyScope) => Promise<OutcomeRow>,
  invalidAmount?: (exponent: number) => Failure,
): Promise<MoneyResult> {
  const cached = await cache.get(call.client, call.key, call.fingerprint);
  if (cached !== undefined)
    return { ok: true, status: cached.status, code: cached.code, body: cached.body, replayed: true };
  let row: OutcomeRow;
  try {
    row = await decide({ client: call.client, key: call.key, fingerprint: Buffer.from(call.fingerprint, 'hex') });
  } catch (error) {
    if (isUnavailable(error)) return failure('database_unavailable');
    throw error;
  }
  switch (row.outcome) {
    case 'key_reused':
      return failure('idempotency_key_reused');
    case 'key_in_use':
      return failure('idempotency_key_in_use');
    case 'invalid_amount': {
      const exponent = row.currency_exponent;
      if (invalidAmount === undefined || exponent === null || exponent === undefined) {
        throw new Error('invalid_amount outcome without an amount to explain');
      }
      return invalidAmount(exponent);
    }
    case 'created':
    case 'declined':
    case 'replayed':
      return recordFinal(cache, call, row);
  }
}

function recordFinal(cache: ResponseCache, call: KeyedCall, row: OutcomeRow): FinalResponse {
  if (row.status === null || row.body === null) throw new Error('idempotency record without response');
  // A replay from PostgreSQL is not cached: its record may be about to expire, and a copy must not outlive it
  // (IDEMPOTENCY_RETENTION). The request that decided cached it, for the record's whole life.
  if (row.outcome !== 'replayed') {
    cache.set(call.client, call.key, {
      fingerprint: call.fingerprint,
      status: row.status,
      code: row.code,
      body: row.body,
    });
  }
  return { ok: true, status: row.status, code: row.code, body: row.body, replayed: row.outcome === 'replayed' };
}
