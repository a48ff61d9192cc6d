import type { Db } from '../db/pool.ts';
import { hasScope, type Caller } from '../auth/key-ring.ts';
import { exactlyOnce } from '../idempotency/exactly-once.ts';
import { fingerprint, refundFingerprint } from '../idempotency/idempotency-key.ts';
import type { ResponseCache } from '../idempotency/response-cache.ts';
import type { ChargeBatcher } from './batcher.ts';
import type { LoneChargeGate } from './lone-charges.ts';
import { minorByExponent, unfitAmountFailure } from './refund-amount.ts';
import { paymentRepository, type PaymentRepository } from './repository.ts';
import type { MoneyRequest, MoneyResult, RefundRequest } from './types.ts';

export interface PaymentService {
  /** Debits the user's account in that currency, exactly once per (client, key). */
  /** `deadline` (performance.now() time): a charge still queued in the batcher then is dropped unsent. */
  charge(caller: Caller, key: string, request: MoneyRequest, deadline?: number): Promise<MoneyResult>;
  /** Credits the user (opening the account in that currency if needed), exactly once per (client, key). */
  credit(caller: Caller, key: string, request: MoneyRequest): Promise<MoneyResult>;
  /** Refunds (part of) a charge to the account it debited, exactly once per (client, key). */
  refund(caller: Caller, key: string, request: RefundRequest): Promise<MoneyResult>;
}

export interface PaymentServiceDeps {
  readonly db: Db;
  readonly cache: ResponseCache;
  readonly repository?: PaymentRepository;
  /** Group commit for charges (BATCH_ENABLED); without it each charge is its own transaction. */
  readonly batcher?: ChargeBatcher;
  /** Without a batcher: bounds the charges at the pool at once, queueing the rest until their deadline. */
  readonly loneCharges?: LoneChargeGate;
}

/**
 * Exactly-once money movement: each operation is the same protocol (exactlyOnce) with its own fingerprint, which
 * starts with the operation's name so that no two operations can share one, and its own SQL function.
 */
export function createPaymentService(deps: PaymentServiceDeps): PaymentService {
  const repository = deps.repository ?? paymentRepository;
  const { cache, db, batcher, loneCharges } = deps;

  return {
    charge(caller, key, request, deadline) {
      const call = { client: caller.client, key, fingerprint: fingerprint({ operation: 'charge', ...request }) };
      return exactlyOnce(cache, call, (scope) =>
        batcher !== undefined
          ? batcher.charge({ ...scope, ...request }, deadline)
          : loneCharges !== undefined
            ? loneCharges.run(() => repository.charge(db, { ...scope, ...request }), deadline)
            : repository.charge(db, { ...scope, ...request }),
      );
    },

    credit(caller, key, request) {
      const call = { client: caller.client, key, fingerprint: fingerprint({ operation: 'credit', ...request }) };
      return exactlyOnce(cache, call, (scope) => repository.credit(db, { ...scope, ...request }));
    },

    refund(caller, key, request) {
      const { chargeId, amount, reason } = request;
      const call = {
        client: caller.client,
        key,
        fingerprint: refundFingerprint({ chargeId, amount: amount?.canonical ?? 'full', reason }),
      };
      const amounts = amount === null ? null : minorByExponent(amount);
      // Only a given amount can fail to fit the currency; the database then names the exponent.
      const invalid = unfitAmountFailure(amount);
      return exactlyOnce(
        cache,
        call,
        (scope) =>
          repository.refund(db, { ...scope, chargeId, amounts, reason, anyCharge: hasScope(caller, 'refunds:any') }),
        invalid,
      );
    },
  };
}
