// Scenario 11: SIGTERM under load → in-flight requests finish or fail cleanly, the process exits 0, nothing is
// half-written; retrying every key afterwards decides each exactly once.
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
  startServer,
  summary,
} from './harness.ts';

after(() => assertLedgerInvariants());

test('SIGTERM under load: clean answers, exit 0, every key decided once on retry', async () => {
  const first = await startServer();
  const userId = await createFundedUser(first.url, '1000.00');
  const keys = Array.from({ length: 300 }, newKey);
  let answered = 0;
  let stopped: Promise<number | null> | undefined;
  const replies = await inParallel(keys.length, 50, async (i) => {
    const reply = await charge(first.url, userId, '1.00', keys[i]!);
    if (++answered === 50) stopped = first.stop('SIGTERM');
    return reply;
  });
  const exitCode = await stopped;
  const byStatus = countBy(replies, (r) => r.status);
  // 200: finished; 503: refused while closing; 0: connection refused after the listener closed.
  assert.deepEqual(
    Object.keys(byStatus).filter((s) => !['200', '503', '0'].includes(s)),
    [],
    JSON.stringify(byStatus),
  );
  assert.equal(exitCode, 0, first.output());
  const second = await startServer({}, first.port);
  try {
    const retries = await inParallel(keys.length, 20, (i) => charge(second.url, userId, '1.00', keys[i]!));
    summary('11 graceful stop', {
      requests: keys.length,
      duringStop: byStatus,
      exitCode,
      retries: countBy(retries, (r) => r.status),
    });
    assert.deepEqual(
      countBy(retries, (r) => r.status),
      { 200: keys.length },
    );
    replies.forEach((r, i) => {
      if (r.status === 200) assert.equal(retries[i]!.body, r.body);
    });
    await assertConserved(userId, 100_000, new Set(keys), 100);
  } finally {
    await second.stop();
  }
});
