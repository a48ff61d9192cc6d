// Scenario 5: the link between PicoPay and PostgreSQL is cut right after the charge committed (the reply to the
// single charge statement is dropped) → the client gets a 5xx, never a 4xx, and its retry with the same key replays
// the committed result; exactly one ledger row.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DATABASE_URL,
  assertConserved,
  assertLedgerInvariants,
  charge,
  createFundedUser,
  newKey,
  startServer,
  summary,
} from './harness.ts';
import { startTcpProxy } from './tcp-proxy.ts';

after(() => assertLedgerInvariants());

test('a lost commit acknowledgement is a 503, and the retry replays the committed charge', async () => {
  const target = new URL(DATABASE_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(DATABASE_URL);
  viaProxy.port = String(proxy.port);
  // No cache layers: the retry must be answered by PostgreSQL.
  const server = await startServer({ DATABASE_URL: viaProxy.toString(), MEMORY_CACHE_ENTRIES: '0' });
  try {
    const userId = await createFundedUser(server.url, '10.00');
    const seen: Record<string, number[]> = {};
    for (const [label, amount, marker, retryStatus] of [
      ['charge', '1.00', 'Charge processed successfully', 200],
      ['decline', '50.00', 'insufficient_balance', 400],
    ] as const) {
      const key = newKey();
      const cutDone = proxy.cutAfterResponseContaining(marker);
      const first = await charge(server.url, userId, amount, key);
      await cutDone;
      const retry = await charge(server.url, userId, amount, key);
      seen[label] = [first.status, retry.status];
      assert.ok(first.status >= 500 && first.status <= 599, `${label}: ${first.status} ${first.body}`);
      assert.equal(JSON.parse(first.body).code, 'database_unavailable');
      assert.equal(retry.status, retryStatus, retry.body);
      assert.equal(retry.replayed, true, `${label}: the retry replays what committed`);
      if (label === 'charge') {
        assert.equal(JSON.parse(retry.body).transaction.idempotency_key, key);
        await assertConserved(userId, 1000, new Set([key]), 100);
      }
    }
    summary('05 commit ack lost', { firstThenRetry: seen, ledgerRowsForKey: 1 });
  } finally {
    await server.stop();
    await proxy.close();
  }
});
