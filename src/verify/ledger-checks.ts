import type pg from 'pg';
import type { Check } from './check.ts';
import { EVENT_CHECKS } from './event-checks.ts';
import { HOLD_CHECKS } from './hold-checks.ts';

export interface Violation {
  readonly check: string;
  readonly detail: string;
}

// Hold and release entries move money between available and held, not the balance (migrations/*_holds.sql).
const BALANCE_TYPES = "('charge', 'credit', 'refund')";

// Each check is a query for counter-examples: an empty result means the invariant holds.
export const LEDGER_CHECKS: readonly Check[] = [
  {
    name: 'balance_equals_entries',
    description: 'every account balance equals the sum of its ledger entries that change balances (not hold/release)',
    sql: `SELECT format('account %s (user %s, %s): balance %s, entries sum %s', a.id, a.user_id, a.currency, a.balance,
                        coalesce(sum(e.amount), 0)) AS detail
            FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id AND e.type IN ${BALANCE_TYPES}
           GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0) LIMIT 20`,
  },
  {
    name: 'balance_not_negative',
    description: 'no balance and no balance_after is negative',
    sql: `SELECT format('account %s balance %s', id, balance) AS detail FROM accounts WHERE balance < 0
          UNION ALL
          SELECT format('entry %s balance_after %s', id, balance_after) FROM ledger_entries WHERE balance_after < 0
          LIMIT 20`,
  },
  {
    name: 'balance_after_chain',
    description: "each entry's balance_after is the running sum of its account's entries",
    sql: `SELECT format('entry %s: balance_after %s, running sum %s', id, balance_after, running) AS detail
            FROM (SELECT id, balance_after,
                         sum(amount) FILTER (WHERE type IN ${BALANCE_TYPES}) OVER (PARTITION BY account_id ORDER BY id)
                           AS running
                    FROM ledger_entries) x
           WHERE balance_after <> running LIMIT 20`,
  },
  {
    // A key is new again once its record expired (IDEMPOTENCY_RETENTION), so one key may carry several entries over
    // time; within one record's life it carries at most one, the one the record points at.
    name: 'one_entry_per_key',
    description: "each idempotency record's life has at most one ledger entry under its key, the one it points at",
    sql: `SELECT format('client %s key %s: entry %s made while the record pointing at %s lived', e.client,
                        e.idempotency_key, e.id, coalesce(k.ledger_entry_id::text, 'no entry')) AS detail
            FROM ledger_entries e
            JOIN idempotency_keys k ON k.client = e.client AND k.key = e.idempotency_key
           WHERE e.idempotency_key IS NOT NULL AND e.created_at >= k.created_at
             AND k.ledger_entry_id IS DISTINCT FROM e.id
           LIMIT 20`,
  },
  {
    // Entries outlive their records: the purge deletes records after the retention, never entries (audit). A live
    // record made no later than its entry must point at it (checked above); here, a record must not point elsewhere.
    name: 'entry_has_key_record',
    description: "a record pointing at an entry names that entry's client and key",
    sql: `SELECT format('record client %s key %s points at entry %s (client %s key %s)', k.client, k.key, e.id,
                        e.client, e.idempotency_key) AS detail
            FROM idempotency_keys k JOIN ledger_entries e ON e.id = k.ledger_entry_id
           WHERE e.client IS DISTINCT FROM k.client OR e.idempotency_key IS DISTINCT FROM k.key
           LIMIT 20`,
  },
  {
    name: 'record_complete',
    description: 'every committed idempotency record carries a response; successes point at their own entry',
    sql: `SELECT format('record client %s key %s: status %s, entry %s', k.client, k.key, k.response_status,
                        k.ledger_entry_id) AS detail
            FROM idempotency_keys k LEFT JOIN ledger_entries e ON e.id = k.ledger_entry_id
           WHERE k.response_status IS NULL OR k.response_body IS NULL
              OR (k.response_status IN (200, 201)) <> (k.ledger_entry_id IS NOT NULL)
              OR (e.id IS NOT NULL AND (e.client <> k.client OR e.idempotency_key <> k.key))
           LIMIT 20`,
  },
  {
    name: 'refunds_within_charge',
    description: 'for every charge, the sum of its refunds is at most the charge amount',
    sql: `SELECT format('charge %s: amount %s, refunded %s', c.id, -c.amount, sum(r.amount)) AS detail
            FROM ledger_entries c JOIN ledger_entries r ON r.refund_of = c.id
           WHERE c.type = 'charge'
           GROUP BY c.id, c.amount HAVING sum(r.amount) > -c.amount LIMIT 20`,
  },
  {
    name: 'refund_of_own_charge',
    description: 'every refund refunds a charge and credits the same account (and user) the charge debited',
    sql: `SELECT format('refund %s (account %s) refunds entry %s (%s, account %s)', r.id, r.account_id, r.refund_of,
                        coalesce(c.type, 'missing'), c.account_id) AS detail
            FROM ledger_entries r LEFT JOIN ledger_entries c ON c.id = r.refund_of
           WHERE r.type = 'refund'
             AND (c.id IS NULL OR c.type <> 'charge' OR c.account_id <> r.account_id OR c.user_id <> r.user_id)
           LIMIT 20`,
  },
  {
    name: 'refund_totals_match',
    description: "each charge's refund guard row holds its amount and the sum of its refunds (none without refunds)",
    sql: `SELECT format('charge %s: guard amount %s refunded %s, ledger amount %s refunded %s', coalesce(t.charge_id, s.id),
                        coalesce(t.amount::text, 'none'), coalesce(t.refunded::text, 'none'),
                        coalesce(s.amount::text, 'none'), coalesce(s.refunded::text, 'none')) AS detail
            FROM charge_refund_totals t
            FULL JOIN (SELECT c.id, -c.amount AS amount, sum(r.amount) AS refunded
                         FROM ledger_entries c JOIN ledger_entries r ON r.refund_of = c.id
                        WHERE c.type = 'charge' GROUP BY c.id, c.amount) s
              ON s.id = t.charge_id
           WHERE t.charge_id IS NULL OR s.id IS NULL OR t.amount <> s.amount OR t.refunded <> s.refunded
           LIMIT 20`,
  },
  ...HOLD_CHECKS,
  ...EVENT_CHECKS,
];

/** Runs every check in one read-only snapshot; returns the violations found (empty: the ledger is consistent). */
export async function verifyLedger(client: pg.ClientBase): Promise<Violation[]> {
  const violations: Violation[] = [];
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const check of LEDGER_CHECKS) {
      const result = await client.query<{ detail: string }>(check.sql);
      for (const row of result.rows) violations.push({ check: check.name, detail: row.detail });
    }
  } finally {
    await client.query('COMMIT');
  }
  return violations;
}
