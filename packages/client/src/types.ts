// Hand-written wire types: field names are the API's own (snake_case), so nothing is renamed between the JSON and
// these types. contract.ts binds each of them to a runtime description that test/client/openapi-drift.test.ts
// compares with the server's OpenAPI document, so a field renamed on either side fails a test.

/**
 * Major units as a decimal string ("49.90", recommended: exact) or a JSON number (49.9). The server converts either
 * exactly to integer minor units by the currency's ISO 4217 exponent and rejects anything it cannot represent.
 */
export type Amount = string | number;

/** ISO 4217 code, upper case ("USD", "JPY", "KWD"). */
export type Currency = string;

/** Up to 20 string pairs; keys 1-40 characters, values up to 500. */
export type Metadata = Record<string, string>;

/**
 * A ledger entry. `*_minor` fields are integers in minor units (cents for USD): use them for arithmetic; the
 * major-unit numbers (`amount`, `balance_after`) are for display.
 */
export interface Transaction {
  id: number;
  /** hold and release move money between the available and the held amount; they leave the balance as it is. */
  type: 'charge' | 'credit' | 'refund' | 'hold' | 'release';
  user_id: number;
  amount: number;
  amount_minor: number;
  signed_amount: number;
  signed_amount_minor: number;
  currency: Currency;
  status: 'completed';
  idempotency_key: string | null;
  description: string | null;
  /**
   * null, like idempotency_key and description, in another client's entry of a user's history (GET
   * /users/{id}/transactions) unless your key holds read:all.
   */
  metadata: Metadata | null;
  balance_after: number;
  balance_after_minor: number;
  /** RFC 3339 timestamp. */
  created_at: string;
  /** Charges only: the total refunded so far (display number; use the minor one for arithmetic). */
  amount_refunded?: number;
  /** Charges only: the total refunded so far, minor units. */
  amount_refunded_minor?: number;
  /** Charges only: ids of its refunds, oldest first. */
  refunds?: number[];
  /** Refunds only: the refunded charge. */
  charge_id?: number;
  /** Holds, releases and charges that captured a hold: the authorization. */
  authorization_id?: number;
}

/** What a charge, a credit or a refund answers. */
export interface MoneyResult {
  message: string;
  transaction: Transaction;
  new_balance: number;
  new_balance_minor: number;
}

export interface ChargeCreateParams {
  user_id: number;
  amount: Amount;
  currency: Currency;
  description?: string | null;
  metadata?: Metadata;
}

export interface RefundParams {
  /** Part of the charge to refund; omitted: everything not refunded yet. */
  amount?: Amount;
  /** Stored as the refund's description (up to 500 characters). */
  reason?: string | null;
}

export interface CreditParams {
  amount: Amount;
  currency: Currency;
  description?: string | null;
  metadata?: Metadata;
}

export interface UserCreateParams {
  name?: string | null;
  /** Opening balances by currency, e.g. { USD: "1000.00" }; each one is a credit entry in the ledger. */
  balances?: Record<Currency, Amount>;
}

export interface User {
  id: number;
  name: string | null;
  balances: Record<Currency, number>;
  /** Exact balances in minor units. */
  balances_minor: Record<Currency, number>;
  /** The balance less pending holds: what a charge or a new hold may spend. */
  available_balances: Record<Currency, number>;
  available_balances_minor: Record<Currency, number>;
  created_at: string;
}

export interface AuthorizeParams {
  user_id: number;
  amount: Amount;
  currency: Currency;
  /** Seconds until the hold is released unless captured (server default 7 days, at most its maximum). */
  expires_in_seconds?: number;
  description?: string | null;
  metadata?: Metadata;
}

export interface CaptureParams {
  /** Part of the hold to capture (the rest is released); omitted: the whole hold. */
  amount?: Amount;
}

/** A void sends an empty object: the server rejects any field. */
export type VoidParams = Record<never, never>;

/** A hold: `amount` authorized, what is held now, what was captured (as a charge) and released. */
export interface Authorization {
  id: number;
  user_id: number;
  currency: Currency;
  status: 'pending' | 'captured' | 'voided' | 'expired';
  amount: number;
  amount_minor: number;
  amount_held: number;
  amount_held_minor: number;
  amount_captured: number;
  amount_captured_minor: number;
  amount_released: number;
  amount_released_minor: number;
  /** The charge the capture made (refund it with charges.refund); null unless captured. */
  capture_id: number | null;
  idempotency_key: string;
  description: string | null;
  metadata: Metadata;
  expires_at: string;
  created_at: string;
}

export interface TransactionsQuery {
  /** Page size, 1-100 (server default 20). */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface TransactionPage {
  data: Transaction[];
  /** Pass back as `cursor`; null on the last page. */
  next_cursor: string | null;
}

/** The closed list of event types GET /events and webhooks carry. */
export type EventType =
  | 'charge.succeeded'
  | 'charge.declined'
  | 'refund.succeeded'
  | 'credit.succeeded'
  | 'authorization.created'
  | 'authorization.captured'
  | 'authorization.voided'
  | 'authorization.expired';

/** One event of the outbox. `data` is the object the API returned (a Transaction, an Authorization, or a decline). */
export interface PicoPayEvent {
  /** The feed position: strictly increasing; resume with `after` = the last id you processed. */
  id: number;
  type: EventType;
  created_at: string;
  /** The API client whose request caused it (null: an opening balance). */
  client: string | null;
  data: Record<string, EventDataValue>;
}

/**
 * A field of an event's data object: a scalar, a list of ids (a charge's refunds) or a string map (metadata; read
 * it through the Transaction or Authorization type when you know the event type).
 */
export type EventDataValue = string | number | boolean | null | number[] | object;

export interface EventsQuery {
  /** Events after this id (exclusive), as a string of digits; absent: from the oldest retained. */
  after?: string;
  /** Page size, 1-1000 (server default 100). */
  limit?: number;
  /** One type or several, comma-separated. */
  type?: string;
}

export interface EventPage {
  data: PicoPayEvent[];
  /** More events follow at once: ask again with after = next_after. */
  has_more: boolean;
  next_after: number;
}

export interface FieldError {
  field: string;
  message: string;
  code?: string;
}

/** RFC 9457 problem body, as every error response carries it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
}

/** A successful call: the decoded body plus what the transport saw. */
export interface ApiResult<T> {
  readonly data: T;
  readonly status: number;
  /** True when the server answered from its idempotency record (`Idempotent-Replayed: true`): no second effect. */
  readonly replayed: boolean;
  /** The server's `X-Request-Id` of the attempt that succeeded (quote it in support requests). */
  readonly requestId: string | undefined;
  /** The Idempotency-Key sent on every attempt (money-moving calls only). */
  readonly idempotencyKey: string | undefined;
  /** HTTP attempts made, 1 when the first one answered. */
  readonly attempts: number;
}
