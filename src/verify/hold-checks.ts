import type { Check } from './check.ts';

// The invariants of holds (authorizations): what an account holds is exactly its pending holds, within its balance,
// and no capture takes more than its hold.
export const HOLD_CHECKS: readonly Check[] = [
  {
    name: 'held_equals_pending_holds',
    description: "every account's held amount is the sum of its pending holds, and at most its balance",
    sql: `SELECT format('account %s: held %s, pending holds %s, balance %s', a.id, a.held, coalesce(p.total, 0),
                        a.balance) AS detail
            FROM accounts a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM authorizations WHERE status = 'pending'
                        GROUP BY account_id) p ON p.account_id = a.id
           WHERE a.held <> coalesce(p.total, 0) OR a.held > a.balance LIMIT 20`,
  },
  {
    name: 'capture_within_hold',
    description: "every capture is at most its hold, and is the hold's one charge entry",
    sql: `SELECT format('authorization %s: amount %s, captured %s, capture entries %s (sum %s)', h.id, h.amount,
                        h.captured, count(e.id), coalesce(-sum(e.amount), 0)) AS detail
            FROM authorizations h LEFT JOIN ledger_entries e ON e.authorization_id = h.id AND e.type = 'charge'
           GROUP BY h.id
          HAVING h.captured > h.amount OR count(e.id) <> (h.status = 'captured')::int
              OR coalesce(-sum(e.amount), 0) <> h.captured
           LIMIT 20`,
  },
];
