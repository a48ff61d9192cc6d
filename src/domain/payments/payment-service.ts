import type { Db } from '../../db/pool.ts';
import { isUnavailable } from '../../db/pool.ts';
import { failure, type Failure } from '../errors.ts';
import type { Caller } from '../auth.ts';
import { fingerprint } from '../idempotency/idempotency-key.ts';
import type { ResponseCache } from '../idempotency/response-cache.ts';
import { paymentRepository, type MoneyCall, type PaymentRepository } from './payment-repository.ts';

export type Operation = 'charge' | 'credit';

export interface MoneyRequest {
  readonly userId: bigint;
  readonly currency: string;
  readonly exponent: number;
  readonly amountMinor: bigint;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
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
}

export interface PaymentServiceDeps {
  readonly db: Db;
  readonly cache: ResponseCache;
  readonly repository?: PaymentRepository;
}

/**
 * Exactly-once money movement. The cache can only answer with a response whose request fingerprint matches;
 * everything else goes to PostgreSQL, which decides (claim, replay, reuse, in use) under its unique index.
 */
export function createPaymentService(deps: PaymentServiceDeps): PaymentService {
  const repository = deps.repository ?? paymentRepository;
  return {
    async execute(operation, caller, key, request) {
      const print = fingerprint({ operation, ...request });
      const printHex = print.toString('hex');
      const cached = await deps.cache.get(caller.client, key, printHex);
      if (cached !== undefined) {
        return { ok: true, status: cached.status, code: cached.code, body: cached.body, replayed: true };
      }
      const call: MoneyCall = { client: caller.client, key, fingerprint: print, ...request };
      let row;
      try {
        row = await repository[operation](deps.db, call);
      } catch (error) {
        if (isUnavailable(error)) return failure('database_unavailable');
        throw error;
      }
      switch (row.outcome) {
        case 'key_reused':
          return failure('idempotency_key_reused');
        case 'key_in_use':
          return failure('idempotency_key_in_use');
        case 'created':
        case 'declined':
        case 'replayed': {
          if (row.status === null || row.body === null) throw new Error(`idempotency record without response`);
          deps.cache.set(caller.client, key, {
            fingerprint: printHex,
            status: row.status,
            code: row.code,
            body: row.body,
          });
          return { ok: true, status: row.status, code: row.code, body: row.body, replayed: row.outcome === 'replayed' };
        }
      }
    },
  };
}
