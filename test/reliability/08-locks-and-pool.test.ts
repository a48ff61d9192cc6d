// Scenario 8: a row lock held from a side connection (a stuck transaction, a partitioned peer) with a small pool →
// requests fail fast with 503 rather than queueing forever; /health stays responsive; the lock is freed and no
// PicoPay session is left holding locks or idle in a transaction.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  DATABASE_URL,
  assertConserved,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  newKey,
  percentile,
  startServer,
  summary,
} from './harness.ts';

after(() => assertLedgerInvariants());

test('a held account lock: fast 503s, live /health, lock freed, then charges resume', async () => {
  const server = await startServer({ DB_POOL_SIZE: '2', DB_LOCK_TIMEOUT_MS: '300', DB_CONNECT_TIMEOUT_MS: '200' });
  const side = new pg.Client({ connectionString: DATABASE_URL });
  await side.connect();
  try {
    const userId = await createFundedUser(server.url, '100.00');
    await side.query('BEGIN');
    await side.query('SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE', [userId]);
    const keys = Array.from({ length: 40 }, newKey);
    const pending = inParallel(keys.length, 40, (i) => charge(server.url, userId, '1.00', keys[i]!));
    const health = await fetch(`${server.url}/health`);
    const blocked = await pending;
    await side.query('ROLLBACK');

    const byStatus = countBy(blocked, (r) => r.status);
    assert.equal(health.status, 200, '/health answers while charges wait on the lock');
    assert.deepEqual(byStatus, { 503: keys.length });
    // Group commit: the batch's lock wait times out (database_unavailable). One transaction per charge
    // (BATCH_ENABLED=false): charges queue for the two pool slots in order until their request deadline, so those
    // still queued when it passes get outcome_unknown (src/payments/lone-charges.ts), or overloaded when a slot
    // frees in the same instant and the gate drops the expired charge unsent before the deadline's timer fires.
    // Either way nothing is recorded: the retries below are charged once each.
    for (const r of blocked)
      assert.match(JSON.parse(r.body).code, /^(database_unavailable|outcome_unknown|overloaded)$/);

    // A charge that left the lone-charge gate just before its deadline may still be at work when its 503 is sent
    // (its outcome is what a retry replays): wait, bounded, for the sessions to settle rather than sampling once.
    const lingering = async (): Promise<number> =>
      (
        await side.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name = 'picopay' AND datname = current_database()
              AND (state LIKE 'idle in transaction%' OR wait_event_type = 'Lock')`,
        )
      ).rows[0].n;
    const settleBy = Date.now() + 5000;
    let left = await lingering();
    while (left > 0 && Date.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await lingering();
    }
    assert.equal(left, 0, 'no PicoPay session left waiting or idle in a transaction');

    // The pool is tiny (2) and its wait bounded (200 ms), so on a busy machine a retry may itself meet a full pool:
    // that is another 503 with nothing recorded, and the client's next retry goes through.
    const resumed = await inParallel(keys.length, 10, async (i) => {
      let reply = await charge(server.url, userId, '1.00', keys[i]!);
      for (let attempt = 1; attempt < 10 && reply.status === 503; attempt++)
        reply = await charge(server.url, userId, '1.00', keys[i]!);
      return reply;
    });
    summary('08 locks and pool', {
      requests: keys.length,
      whileLocked: byStatus,
      p99msWhileLocked: Math.round(
        percentile(
          blocked.map((r) => r.ms),
          99,
        ),
      ),
      afterRelease: countBy(resumed, (r) => r.status),
    });
    assert.deepEqual(
      countBy(resumed, (r) => r.status),
      { 200: keys.length },
      'the 503s were not recorded',
    );
    await assertConserved(userId, 10_000, new Set(keys), 100);
  } finally {
    await side.end();
    await server.stop();
  }
});
