import { statement, type Db } from '../db/pool.ts';

export interface OpeningBalance {
  readonly currency: string;
  readonly exponent: number;
  readonly amount: bigint;
}

/** Which entries a history page lists; null: no filter. Timestamps are ISO 8601 texts PostgreSQL accepts. */
export interface TransactionFilter {
  readonly type: 'charge' | 'credit' | 'refund' | 'hold' | 'release' | null;
  /** Inclusive. */
  readonly createdAfter: string | null;
  /** Exclusive: [createdAfter, createdBefore) windows tile time without overlap. */
  readonly createdBefore: string | null;
}

export interface PageRequest {
  /** The cursor: entries older than this id; null from the newest. */
  readonly before: bigint | null;
  readonly limit: number;
  readonly filter: TransactionFilter;
  /**
   * Whose entries are shown whole: other clients' come without idempotency key, description and metadata (see
   * db/functions/picopay_redacted.sql). null: everything whole (read:all).
   */
  readonly viewer: string | null;
}

export interface TransactionPage {
  /** Each item is a transaction object rendered by picopay_transaction_json(). */
  readonly items: readonly string[];
  readonly nextCursor: bigint | null;
}

const CREATE_USER = 'SELECT picopay_create_user($1, $2) AS json';
const USER_JSON = 'SELECT picopay_user_json($1) AS json';
// Keyset pagination, newest first; one extra row tells whether another page exists. The time range compares
// created_at at the millisecond precision it is shown with, so a created_at read from a response is an exact bound.
const USER_TRANSACTIONS = `
  SELECT picopay_transaction_json(picopay_redacted(e, $7), a.exponent, a.currency) AS json, e.id
    FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
   WHERE e.user_id = $1 AND ($2::bigint IS NULL OR e.id < $2)
     AND ($3::text IS NULL OR e.type = $3)
     AND ($4::timestamptz IS NULL OR date_trunc('milliseconds', e.created_at) >= $4)
     AND ($5::timestamptz IS NULL OR date_trunc('milliseconds', e.created_at) < $5)
   ORDER BY e.id DESC
   LIMIT $6`;

// Every statement of the users module.
export const userRepository = {
  async create(db: Db, name: string | null, balances: readonly OpeningBalance[]): Promise<string> {
    const opening = balances.map((b) => ({ currency: b.currency, exponent: b.exponent, amount: b.amount.toString() }));
    const result = await db.query<{ json: string }>(CREATE_USER, [name, JSON.stringify(opening)]);
    return result.rows[0]!.json;
  },

  async find(db: Db, userId: bigint): Promise<string | undefined> {
    const result = await db.query<{ json: string | null }>(statement(db, 'user_json', USER_JSON, [userId.toString()]));
    return result.rows[0]?.json ?? undefined;
  },

  async transactions(db: Db, userId: bigint, page: PageRequest): Promise<TransactionPage> {
    const { before, limit, filter, viewer } = page;
    const result = await db.query<{ json: string; id: bigint }>(
      statement(db, 'user_transactions', USER_TRANSACTIONS, [
        userId.toString(),
        before?.toString() ?? null,
        filter.type,
        filter.createdAfter,
        filter.createdBefore,
        limit + 1,
        viewer,
      ]),
    );
    const rows = result.rows.slice(0, limit);
    const more = result.rows.length > limit;
    return { items: rows.map((r) => r.json), nextCursor: more ? rows[rows.length - 1]!.id : null };
  },
};
