import { hasScope, type Caller } from '../auth/key-ring.ts';
import type { Db } from '../db/pool.ts';
import { exactlyOnce } from '../idempotency/exactly-once.ts';
import { holdFingerprint } from '../idempotency/idempotency-key.ts';
import type { ResponseCache } from '../idempotency/response-cache.ts';
import { retentionIntervals, type Retention } from '../idempotency/retention.ts';
import { minorByExponent, unfitAmountFailure, type RefundAmount } from '../payments/refund-amount.ts';
import type { MoneyRequest, MoneyResult } from '../payments/types.ts';
import { holdRepository } from './repository.ts';

export interface AuthorizeRequest extends MoneyRequest {
  readonly expiresInSeconds: number;
}

export interface HoldService {
  /** Holds the amount on the user's account in that currency, exactly once per (client, key). */
  authorize(caller: Caller, key: string, request: AuthorizeRequest): Promise<MoneyResult>;
  /** Captures all (amount null) or part of a pending hold the caller may settle, exactly once per (client, key). */
  capture(caller: Caller, key: string, id: bigint, amount: RefundAmount | null): Promise<MoneyResult>;
  /** Releases a pending hold the caller may settle, exactly once per (client, key). */
  void(caller: Caller, key: string, id: bigint): Promise<MoneyResult>;
}

/**
 * Holds follow the charges' exactly-once protocol (exactlyOnce: cache, else one SQL function that claims the key,
 * decides, records). Each fingerprint starts with its operation's name, so none can equal another operation's.
 * A hold belongs to the client that made it: capture and void of another client's answer authorization_not_found,
 * unless the key holds authorizations:any (an admin key does), as a Stripe platform acts on its connected accounts.
 */
const anyHold = (caller: Caller): boolean => hasScope(caller, 'authorizations:any');

export function createHoldService(db: Db, cache: ResponseCache, kept: Retention): HoldService {
  const retention = retentionIntervals(kept);
  return {
    authorize(caller, key, r) {
      const fingerprint = holdFingerprint('authorize', [
        r.userId.toString(),
        r.currency,
        r.amountMinor.toString(),
        String(r.expiresInSeconds),
        r.description,
        JSON.stringify(Object.entries(r.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      ]);
      return exactlyOnce(cache, { client: caller.client, key, fingerprint }, (scope) =>
        holdRepository.authorize(db, { ...scope, ...r, retention }),
      );
    },

    capture(caller, key, id, amount) {
      const fingerprint = holdFingerprint('capture', [id.toString(), amount?.canonical ?? 'full']);
      const amounts = amount === null ? null : minorByExponent(amount);
      // Only a given amount can fail to fit the currency; the database then names the exponent.
      const invalid = unfitAmountFailure(amount);
      return exactlyOnce(
        cache,
        { client: caller.client, key, fingerprint },
        (scope) =>
          holdRepository.capture(db, { ...scope, authorizationId: id, amounts, any: anyHold(caller), retention }),
        invalid,
      );
    },

    void(caller, key, id) {
      const fingerprint = holdFingerprint('void', [id.toString()]);
      return exactlyOnce(cache, { client: caller.client, key, fingerprint }, (scope) =>
        holdRepository.void(db, { ...scope, authorizationId: id, any: anyHold(caller), retention }),
      );
    },
  };
}
