import { singleRow, statement, type Db } from '../db/pool.ts';
import { DEFAULT_RETENTION, retentionIntervals, type Retention } from '../idempotency/retention.ts';
import type { MoneyCall, OutcomeRow, RefundCall } from './types.ts';

// Every statement of the payments module. Each money statement is the whole operation (claim, lock, write, record) in
// one transaction and one round trip; the functions are in db/functions/. Named statements: parsed once per connection.
// The last two arguments of each are the retentions: a record older than them is not replayed (its key is new again).
export const CHARGE_SQL = `SELECT outcome, status, code, body FROM picopay_charge(
  $1, $2, $3, $4, $5, $6, $7, $8, $9::interval, $10::interval)`;
export const CHARGE_BATCH_SQL = `SELECT outcome, status, code, body FROM picopay_charge_batch(
  $1::text[], $2::text[], $3::bytea[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::jsonb[],
  $9::interval, $10::interval)`;
const CREDIT_SQL = `SELECT outcome, status, code, body FROM picopay_credit(
  $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::interval, $11::interval)`;
const REFUND_SQL = `SELECT outcome, status, code, body, currency_exponent FROM picopay_refund(
  $1, $2, $3, $4, $5::bigint[], $6, $7, $8::interval, $9::interval)`;
const TRANSACTION_JSON = `
  SELECT picopay_transaction_json(e, a.exponent, a.currency) AS json, e.type, e.client
    FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
   WHERE e.id = $1`;

/** A ledger entry as GET /charges/{id} and /refunds/{id} find it. */
export interface FoundTransaction {
  readonly json: string;
  readonly type: string;
  /** The client that made it (null for opening balances). */
  readonly client: string | null;
}

export interface PaymentRepository {
  charge(db: Db, call: MoneyCall): Promise<OutcomeRow>;
  /** Several charges in one transaction (group commit); one row per call, in order. */
  chargeBatch(db: Db, calls: readonly MoneyCall[]): Promise<OutcomeRow[]>;
  credit(db: Db, call: MoneyCall): Promise<OutcomeRow>;
  refund(db: Db, call: RefundCall): Promise<OutcomeRow>;
  /** A ledger entry rendered as a transaction object, with its type and owner; undefined when there is none. */
  findTransaction(db: Db, id: bigint): Promise<FoundTransaction | undefined>;
}

/** Several charges in one statement; one row per call, in order. */
async function chargeBatch(db: Db, calls: readonly MoneyCall[], intervals: readonly string[]): Promise<OutcomeRow[]> {
  const result = await db.query<OutcomeRow>(
    statement(db, 'picopay_charge_batch', CHARGE_BATCH_SQL, [
      calls.map((c) => c.client),
      calls.map((c) => c.key),
      calls.map((c) => c.fingerprint),
      calls.map((c) => c.userId.toString()),
      calls.map((c) => c.currency),
      calls.map((c) => c.amountMinor.toString()),
      calls.map((c) => c.description),
      calls.map((c) => JSON.stringify(c.metadata)),
      ...intervals,
    ]),
  );
  if (result.rows.length !== calls.length)
    throw new Error(`batch of ${calls.length} returned ${result.rows.length} rows`);
  return result.rows;
}

export function createPaymentRepository(retention: Retention): PaymentRepository {
  const intervals = retentionIntervals(retention);
  return {
    charge: (db, c) =>
      singleRow<OutcomeRow>(db, 'picopay_charge', CHARGE_SQL, [
        c.client,
        c.key,
        c.fingerprint,
        c.userId.toString(),
        c.currency,
        c.amountMinor.toString(),
        c.description,
        JSON.stringify(c.metadata),
        ...intervals,
      ]),

    chargeBatch: (db, calls) => chargeBatch(db, calls, intervals),

    credit: (db, c) =>
      singleRow<OutcomeRow>(db, 'picopay_credit', CREDIT_SQL, [
        c.client,
        c.key,
        c.fingerprint,
        c.userId.toString(),
        c.currency,
        c.exponent,
        c.amountMinor.toString(),
        c.description,
        JSON.stringify(c.metadata),
        ...intervals,
      ]),

    refund: (db, c) =>
      singleRow<OutcomeRow>(db, 'picopay_refund', REFUND_SQL, [
        c.client,
        c.key,
        c.fingerprint,
        c.chargeId.toString(),
        c.amounts?.map((a) => a?.toString() ?? null) ?? null,
        c.reason,
        c.anyCharge,
        ...intervals,
      ]),

    async findTransaction(db, id) {
      const result = await db.query<FoundTransaction>(
        statement(db, 'transaction_json', TRANSACTION_JSON, [id.toString()]),
      );
      return result.rows[0];
    },
  };
}

export const paymentRepository: PaymentRepository = createPaymentRepository(DEFAULT_RETENTION);
