import { statement, type Db } from '../../db/pool.ts';
import type { MoneyRequest } from './payment-service.ts';

export type MoneyOutcome = 'created' | 'declined' | 'replayed' | 'key_reused' | 'key_in_use' | 'invalid_amount';

export interface MoneyOutcomeRow {
  readonly outcome: MoneyOutcome;
  readonly status: number | null;
  readonly code: string | null;
  readonly body: string | null;
  /** Refunds only, with 'invalid_amount': the exponent of the charge's currency, which the amount does not fit. */
  readonly currency_exponent?: number | null;
}

/** The idempotency scope of a call: who, under which key, for which request (fingerprint). */
export interface KeyScope {
  readonly client: string;
  readonly key: string;
  readonly fingerprint: Buffer;
}

/** What a money operation needs: the validated request and its idempotency scope and fingerprint. */
export interface MoneyCall extends MoneyRequest, KeyScope {}

export interface RefundCall extends KeyScope {
  readonly chargeId: bigint;
  /** Minor units at each exponent 0..4 (null where the amount does not fit it); null: the whole remaining amount. */
  readonly amounts: readonly (bigint | null)[] | null;
  readonly reason: string | null;
}

// Named statements: parsed once per connection. Each is the whole operation (claim, lock, write, record) in one
// transaction, sent as one round trip; see migrations for the functions.
export const CHARGE_SQL = 'SELECT outcome, status, code, body FROM picopay_charge($1, $2, $3, $4, $5, $6, $7, $8)';
const CREDIT_SQL = 'SELECT outcome, status, code, body FROM picopay_credit($1, $2, $3, $4, $5, $6, $7, $8, $9)';
const REFUND_SQL =
  'SELECT outcome, status, code, body, currency_exponent FROM picopay_refund($1, $2, $3, $4, $5::bigint[], $6)';

export interface PaymentRepository {
  charge(db: Db, call: MoneyCall): Promise<MoneyOutcomeRow>;
  credit(db: Db, call: MoneyCall): Promise<MoneyOutcomeRow>;
  refund(db: Db, call: RefundCall): Promise<MoneyOutcomeRow>;
}

async function single(db: Db, name: string, text: string, values: unknown[]): Promise<MoneyOutcomeRow> {
  const result = await db.query<MoneyOutcomeRow>(statement(db, name, text, values));
  const row = result.rows[0];
  if (row === undefined) throw new Error(`${name} returned no row`);
  return row;
}

export const paymentRepository: PaymentRepository = {
  charge: (db, c) =>
    single(db, 'picopay_charge', CHARGE_SQL, [
      c.client, c.key, c.fingerprint, c.userId.toString(), c.currency, c.amountMinor.toString(), c.description,
      JSON.stringify(c.metadata),
    ]),
  credit: (db, c) =>
    single(db, 'picopay_credit', CREDIT_SQL, [
      c.client, c.key, c.fingerprint, c.userId.toString(), c.currency, c.exponent, c.amountMinor.toString(),
      c.description, JSON.stringify(c.metadata),
    ]),
  refund: (db, c) =>
    single(db, 'picopay_refund', REFUND_SQL, [
      c.client, c.key, c.fingerprint, c.chargeId.toString(), c.amounts?.map((a) => a?.toString() ?? null) ?? null,
      c.reason,
    ]),
};
