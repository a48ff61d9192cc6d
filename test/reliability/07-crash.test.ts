// Scenario 7: SIGKILL the server while 100 charges are in flight; restart it; retry every key → each key charged at
// most once and every key ends with a decision; invariants hold.
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

test('kill -9 with 100 charges in flight, restart, retry every key: at most once each, all decided', async () => {
  const first = await startServer();
  const userId = await createFundedUser(first.url, '1000.00');
  const keys = Array.from({ length: 100 }, newKey);
  let answered = 0;
  let killed: Promise<number | null> | undefined;
  const inFlight = inParallel(keys.length, 100, async (i) => {
    const reply = await charge(first.url, userId, '1.00', keys[i]!);
    // Kill once the first few have been answered, so the rest are mid-request.
    if (++answered === 5) killed = first.stop('SIGKILL');
    return reply;
  });
  const firstReplies = await inFlight;
  await killed;
  const second = await startServer({}, first.port);
  try {
    const retries = await inParallel(keys.length, 20, (i) => charge(second.url, userId, '1.00', keys[i]!));
    summary('07 crash', {
      inFlight: keys.length,
      beforeKill: countBy(firstReplies, (r) => r.status),
      retries: countBy(retries, (r) => `${r.status}${r.replayed ? ' replayed' : ''}`),
    });
    assert.deepEqual(
      countBy(retries, (r) => r.status),
      { 200: keys.length },
      'every key ends with a success',
    );
    firstReplies.forEach((r, i) => {
      if (r.status === 200) assert.equal(retries[i]!.body, r.body, 'an answered charge replays as answered');
    });
    await assertConserved(userId, 100_000, new Set(keys), 100);
  } finally {
    await second.stop();
  }
});
