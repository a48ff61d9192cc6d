import type { Db } from '../../db/pool.ts';
import type { MoneyRequest } from './payment-service.ts';

export type MoneyOutcome = 'created' | 'declined' | 'replayed' | 'key_reused' | 'key_in_use';

export interface MoneyOutcomeRow {
  readonly outcome: MoneyOutcome;
  readonly status: number | null;
  readonly code: string | null;
  readonly body: string | null;
}

/** What a money operation needs: the validated request and its idempotency scope and fingerprint. */
export interface MoneyCall extends MoneyRequest {
  readonly client: string;
  readonly key: string;
  readonly fingerprint: Buffer;
}

// Named statements: parsed once per connection. Each is the whole operation (claim, lock, write, record) in one
// transaction, sent as one round trip; see migrations for the functions.
const CHARGE_SQL = 'SELECT outcome, status, code, body FROM picopay_charge($1, $2, $3, $4, $5, $6, $7, $8)';
const CREDIT_SQL = 'SELECT outcome, status, code, body FROM picopay_credit($1, $2, $3, $4, $5, $6, $7, $8, $9)';

export interface PaymentRepository {
  charge(db: Db, call: MoneyCall): Promise<MoneyOutcomeRow>;
  credit(db: Db, call: MoneyCall): Promise<MoneyOutcomeRow>;
}

async function single(db: Db, name: string, text: string, values: unknown[]): Promise<MoneyOutcomeRow> {
  const result = await db.query<MoneyOutcomeRow>({ name, text, values });
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
};
