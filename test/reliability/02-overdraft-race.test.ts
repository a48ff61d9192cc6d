// Scenario 2: one account funded for exactly N charges, 5N concurrent distinct charges → exactly N succeed, the rest
// are 400 insufficient_balance, final balance 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
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

const N = 100;

test('overdraft race: exactly N of 5N concurrent charges succeed and the balance ends at 0', async () => {
  const server = await startServer();
  try {
    const userId = await createFundedUser(server.url, `${N}.00`);
    const keys = Array.from({ length: 5 * N }, newKey);
    const replies = await inParallel(keys.length, 100, (i) => charge(server.url, userId, '1.00', keys[i]!));
    const byStatus = countBy(replies, (r) => r.status);
    summary('02 overdraft race', {
      funded: N,
      requests: 5 * N,
      byStatus,
      p99ms: Math.round(
        percentile(
          replies.map((r) => r.ms),
          99,
        ),
      ),
    });
    assert.deepEqual(byStatus, { 200: N, 400: 4 * N });
    for (const r of replies.filter((r) => r.status === 400))
      assert.equal(JSON.parse(r.body).code, 'insufficient_balance');
    const succeeded = new Set(keys.filter((_, i) => replies[i]!.status === 200));
    const truth = await assertConserved(userId, N * 100, succeeded, 100);
    assert.equal(truth.balanceMinor, 0);
  } finally {
    await server.stop();
  }
});
