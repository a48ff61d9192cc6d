// The shapes the payments module passes between its routes, service, batcher and repository. Kept apart so that none
// of those imports another only for its types (no import cycles).
import type { Failure } from '../lib/errors.ts';
import type { RefundAmount } from './refund-amount.ts';

/** A validated charge or credit: exact minor units and the checked extras. */
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

/** The idempotency scope of a call: who, under which key, for which request (its fingerprint). */
export interface KeyScope {
  readonly client: string;
  readonly key: string;
  readonly fingerprint: Buffer;
}

/** A charge or credit as the repository sends it: the request and its idempotency scope. */
export interface MoneyCall extends MoneyRequest, KeyScope {}

export interface RefundCall extends KeyScope {
  readonly chargeId: bigint;
  /** Minor units at each exponent 0..4 (null where the amount does not fit it); null: the whole remaining amount. */
  readonly amounts: readonly (bigint | null)[] | null;
  readonly reason: string | null;
  /** The caller may refund any client's charge (refunds:any); otherwise only its own. */
  readonly anyCharge: boolean;
}

export type Outcome = 'created' | 'declined' | 'replayed' | 'key_reused' | 'key_in_use' | 'invalid_amount';

/** What a money function returns for one call. */
export interface OutcomeRow {
  readonly outcome: Outcome;
  readonly status: number | null;
  readonly code: string | null;
  readonly body: string | null;
  /** Refunds only, with 'invalid_amount': the exponent of the charge's currency, which the amount does not fit. */
  readonly currency_exponent?: number | null;
}

/** A final response: made by this request or replayed (stored under the key, from a cache or the database). */
export interface FinalResponse {
  readonly ok: true;
  readonly status: number;
  readonly code: string | null;
  readonly body: string;
  readonly replayed: boolean;
}

export type MoneyResult = FinalResponse | Failure;
