// Scenario 1: 1000 requests with one Idempotency-Key, 200 in flight, over TWO server processes sharing PostgreSQL
// and Redis → exactly one debit; every answer is the original result or 409 idempotency_key_in_use; no 5xx.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIS_SKIP, REDIS_URL } from '../helpers/app.ts';
import {
  ADMIN_KEY,
  CLIENT_KEY,
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

test('same-key storm over two instances: one debit, one body, no 5xx', async () => {
  const env: Record<string, string> = REDIS_SKIP === false ? { REDIS_URL } : {};
  const servers = await Promise.all([startServer(env), startServer(env)]);
  try {
    const userId = await createFundedUser(servers[0].url, '100.00');
    const key = newKey();
    const replies = await inParallel(1000, 200, (i) => charge(servers[i % 2]!.url, userId, '1.00', key));
    const byStatus = countBy(replies, (r) => r.status);
    const ok = replies.filter((r) => r.status === 200);
    const bodies = new Set(ok.map((r) => r.body));
    summary('01 same-key storm', {
      requests: replies.length,
      instances: 2,
      inFlight: 200,
      byStatus,
      distinctBodies: bodies.size,
      executed: ok.filter((r) => !r.replayed).length,
      p99ms: Math.round(
        percentile(
          replies.map((r) => r.ms),
          99,
        ),
      ),
    });
    assert.deepEqual(
      Object.keys(byStatus).filter((s) => s !== '200' && s !== '409'),
      [],
      'only 200 or 409',
    );
    for (const r of replies.filter((r) => r.status === 409))
      assert.equal(JSON.parse(r.body).code, 'idempotency_key_in_use');
    assert.equal(bodies.size, 1, 'every success is the same response');
    assert.equal(ok.filter((r) => !r.replayed).length, 1, 'exactly one request executed');
    await assertConserved(userId, 10_000, new Set([key]), 100);
    for (const server of servers) {
      const logged = server.output();
      assert.ok(!logged.includes(CLIENT_KEY) && !logged.includes(ADMIN_KEY), 'no API key in the server output');
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
});
