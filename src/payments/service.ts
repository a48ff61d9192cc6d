import type { Db } from '../../db/pool.ts';
import { isUnavailable } from '../../db/pool.ts';
import { failure, type Failure } from '../errors.ts';
import type { Caller } from '../auth.ts';
import { fingerprint, refundFingerprint } from '../idempotency/idempotency-key.ts';
import type { ResponseCache } from '../idempotency/response-cache.ts';
import type { ChargeBatcher } from './charge-batcher.ts';
import { paymentRepository, type KeyScope, type MoneyOutcomeRow, type PaymentRepository } from './payment-repository.ts';
import { minorByExponent, refundAmountError, type RefundAmount } from './refund-amount.ts';

export type Operation = 'charge' | 'credit';

export interface MoneyRequest {
  readonly userId: bigint;
  readonly currency: string;
  readonly exponent: number;
  readonly amountMinor: bigint;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface RefundRequest {
  readonly chargeId: bigint;
  /** null: the whole amount not refunded yet. */
  readonly amount: RefundAmount | null;
  readonly reason: string | null;
}

/** A final response: new (executed by this request) or replayed (stored under the key, from cache or database). */
export interface MoneyResponse {
  readonly ok: true;
  readonly status: number;
  readonly code: string | null;
  readonly body: string;
  readonly replayed: boolean;
}

export type MoneyResult = MoneyResponse | Failure;

export interface PaymentService {
  execute(operation: Operation, caller: Caller, key: string, request: MoneyRequest): Promise<MoneyResult>;
  /** Refunds (part of) a charge to the account it debited; operation 'refund' under the key, same protocol. */
  refund(caller: Caller, key: string, request: RefundRequest): Promise<MoneyResult>;
}

export interface PaymentServiceDeps {
  readonly db: Db;
  readonly cache: ResponseCache;
  readonly repository?: PaymentRepository;
  /** Group commit for charges (BATCH_ENABLED); without it each charge is its own transaction. */
  readonly batcher?: ChargeBatcher;
}

/**
 * Exactly-once money movement. The cache can only answer with a response whose request fingerprint matches;
 * everything else goes to PostgreSQL, which decides (claim, replay, reuse, in use) under its unique index.
 * Every operation runs through the same protocol (run); they differ only in their fingerprint and SQL function.
 */
export function createPaymentService(deps: PaymentServiceDeps): PaymentService {
  const repository = deps.repository ?? paymentRepository;

  async function run(
    caller: Caller,
    key: string,
    print: string,
    send: (scope: KeyScope) => Promise<MoneyOutcomeRow>,
    invalidAmount?: (exponent: number) => Failure,
  ): Promise<MoneyResult> {
    const cached = await deps.cache.get(caller.client, key, print);
    if (cached !== undefined) {
      return { ok: true, status: cached.status, code: cached.code, body: cached.body, replayed: true };
    }
    let row;
    try {
      row = await send({ client: caller.client, key, fingerprint: Buffer.from(print, 'hex') });
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
        // Not a final response: nothing was recorded under the key, so nothing is cached either.
        const exponent = row.currency_exponent;
        if (invalidAmount === undefined || exponent === null || exponent === undefined) {
          throw new Error('invalid_amount outcome without an amount to explain');
        }
        return invalidAmount(exponent);
      }
      case 'created':
      case 'declined':
      case 'replayed': {
        if (row.status === null || row.body === null) throw new Error(`idempotency record without response`);
        deps.cache.set(caller.client, key, {
          fingerprint: print,
          status: row.status,
          code: row.code,
          body: row.body,
        });
        return { ok: true, status: row.status, code: row.code, body: row.body, replayed: row.outcome === 'replayed' };
      }
    }
  }

  return {
    execute(operation, caller, key, request) {
      const print = fingerprint({ operation, ...request });
      const batcher = deps.batcher;
      if (operation === 'charge' && batcher !== undefined) {
        return run(caller, key, print, (scope) => batcher.charge({ ...scope, ...request }));
      }
      return run(caller, key, print, (scope) => repository[operation](deps.db, { ...scope, ...request }));
    },

    refund(caller, key, request) {
      const { chargeId, amount, reason } = request;
      const print = refundFingerprint({ chargeId, amount: amount?.canonical ?? 'full', reason });
      const amounts = amount === null ? null : minorByExponent(amount);
      // Only a given amount can fail to fit the charge's currency; the database then names the exponent.
      const invalid =
        amount === null
          ? undefined
          : (exponent: number) => failure('validation_failed', 'The request is invalid', [refundAmountError(amount, exponent)]);
      return run(caller, key, print, (scope) => repository.refund(deps.db, { ...scope, chargeId, amounts, reason }), invalid);
    },
  };
}
