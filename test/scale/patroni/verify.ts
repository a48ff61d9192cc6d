// What the failover tests assert after the load has settled: no acknowledged operation lost, one outcome per key,
// money conserved per user, the ledger invariants, and no answer that is not retryable or decisive.
import assert from 'node:assert/strict';
import pg from 'pg';
import { assertLedgerInvariants } from '../../reliability/harness.ts';
import { CHARGE_MINOR, REFUND_MINOR, type Load } from './load.ts';

interface Entry {
  readonly id: number;
  readonly type: 'charge' | 'refund';
  readonly key: string;
  readonly user_id: number;
}

/** Every answer was 200, or retryable (503 with Retry-After, 409 for a key in flight); reads of acked charges never 404. */
export function assertOnlyRetryableFailures(load: Load): void {
  for (const op of load.ops) {
    const { status, retryAfter, body } = op.reply;
    assert.ok([200, 409, 503].includes(status), `${op.kind} ${op.key}: HTTP ${status} ${body.slice(0, 200)}`);
    if (status === 503) {
      assert.equal(retryAfter, '1', `${op.kind}: 503 without Retry-After`);
      assert.equal(JSON.parse(body).code, 'database_unavailable');
    }
  }
}

/**
 * Against the leader's ledger (through HAProxy's write port): each key has at most one entry, each 200 has the entry
 * it named, all 200s for a key carry the same body, no entry exists without a 200 (every key is decided by now),
 * and each balance is what the acknowledged answers add up to.
 */
export async function assertNothingLost(
  databaseUrl: string,
  load: Load,
  users: readonly number[],
  seededMinor: number,
): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Entry>(
      `SELECT id::int, type, idempotency_key AS key, user_id::int FROM ledger_entries
        WHERE type IN ('charge', 'refund') AND user_id = ANY($1::bigint[])`,
      [users],
    );
    const byKey = new Map<string, Entry>();
    for (const entry of rows) {
      assert.equal(byKey.has(entry.key), false, `key ${entry.key} has two ledger entries`);
      byKey.set(entry.key, entry);
    }
    const bodies = new Map<string, string>();
    for (const op of load.ops) {
      if (op.kind === 'read' || op.reply.status !== 200) continue;
      const entry = byKey.get(op.key);
      assert.ok(entry !== undefined, `${op.kind} ${op.key} was acknowledged (200) but is not in the leader's ledger`);
      assert.equal(
        entry.id,
        JSON.parse(op.reply.body).transaction.id,
        `${op.key}: the acknowledged entry is the one in the ledger`,
      );
      assert.equal(entry.type, op.kind === 'refund' ? 'refund' : 'charge');
      assert.equal(bodies.get(op.key) ?? op.reply.body, op.reply.body, `${op.key}: every 200 carries the same body`);
      bodies.set(op.key, op.reply.body);
    }
    for (const key of byKey.keys()) assert.ok(bodies.has(key), `ledger entry for ${key} without any 200`);
    for (const userId of users) {
      const mine = rows.filter((e) => e.user_id === userId);
      const charges = mine.filter((e) => e.type === 'charge').length;
      const refunds = mine.filter((e) => e.type === 'refund').length;
      const {
        rows: [account],
      } = await client.query('SELECT balance::bigint AS balance FROM accounts WHERE user_id = $1', [userId]);
      assert.equal(
        Number(account.balance),
        seededMinor - charges * CHARGE_MINOR + refunds * REFUND_MINOR,
        `user ${userId}: money conserved`,
      );
    }
    await assertLedgerInvariants(databaseUrl);
    return byKey.size;
  } finally {
    await client.end();
  }
}
