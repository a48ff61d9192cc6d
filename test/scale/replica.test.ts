// Read replica: with DATABASE_REPLICA_URL, the read-only endpoints are served by a streaming hot standby while every
// charge, refund, credit and idempotency decision stays on the primary. Proof of the latter: the standby logs every
// statement it executes (log_statement = all), and none of the money functions appears there, while the reads do.
// A read the replica cannot answer yet (replay paused) is rechecked on the primary; a stopped replica degrades all
// reads to the primary, fast, and /ready stays ready.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/db/migrate.ts';
import {
  ADMIN_KEY,
  CLIENT_KEY,
  assertLedgerInvariants,
  charge,
  createFundedUser,
  newKey,
  post,
  startServer,
  summary,
  type ServerProcess,
} from '../reliability/harness.ts';
import { replicaSkipReason, startReplicationPair, type ReplicationPair } from './replica-fixture.ts';

// JSON answers, asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = { status: number; source: string | null; body: Record<string, any>; ms: number };

async function get(url: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, { headers: { 'x-api-key': CLIENT_KEY } });
  return {
    status: res.status,
    source: res.headers.get('x-read-source'),
    body: await res.json(),
    ms: performance.now() - started,
  };
}

describe('read replica (DATABASE_REPLICA_URL)', { skip: replicaSkipReason() }, () => {
  let pair: ReplicationPair;
  let server: ServerProcess;
  let userId: number;
  let chargeId: number;
  let refundId: number;

  before(async () => {
    pair = await startReplicationPair((url) => migrate(url).then(() => {}));
    server = await startServer({
      DATABASE_URL: pair.primary.url,
      DATABASE_REPLICA_URL: pair.standby.url,
      MEMORY_CACHE_ENTRIES: '0',
    });
  });
  after(async () => {
    await server?.stop();
    if (pair !== undefined) {
      await assertLedgerInvariants(pair.primary.url);
      pair.stop();
    }
  });

  test('the standby is a hot standby; /ready reports it up', async () => {
    const [row] = await pair.standby.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
    assert.equal(row?.recovery, true);
    const ready = await (await fetch(`${server.url}/ready`)).json();
    assert.deepEqual([ready.status, ready.postgres, ready.replica], ['ready', 'up', 'up']);
  });

  test('charges and refunds succeed (on the primary); once replayed, every read endpoint answers from the replica', async () => {
    userId = await createFundedUser(server.url, '100.00');
    const charged = await charge(server.url, userId, '30.00', newKey());
    assert.equal(charged.status, 200, charged.body);
    chargeId = JSON.parse(charged.body).transaction.id;
    const refunded = await post(server.url, `/charges/${chargeId}/refunds`, { amount: '10.00' }, newKey());
    assert.equal(refunded.status, 200, refunded.body);
    refundId = JSON.parse(refunded.body).transaction.id;
    const credited = await post(
      server.url,
      `/users/${userId}/credits`,
      { amount: '5.00', currency: 'USD' },
      newKey(),
      ADMIN_KEY,
    );
    assert.equal(credited.status, 200, credited.body);
    await pair.caughtUp();

    const user = await get(`${server.url}/users/${userId}`);
    assert.deepEqual([user.status, user.source, user.body.balances_minor.USD], [200, 'replica', 8500]);
    const history = await get(`${server.url}/users/${userId}/transactions`);
    assert.deepEqual([history.status, history.source, history.body.data.length], [200, 'replica', 4]);
    const chargeRead = await get(`${server.url}/charges/${chargeId}`);
    assert.deepEqual(
      [chargeRead.status, chargeRead.source, chargeRead.body.amount_refunded_minor],
      [200, 'replica', 1000],
    );
    const refundRead = await get(`${server.url}/refunds/${refundId}`);
    assert.deepEqual([refundRead.status, refundRead.source, refundRead.body.charge_id], [200, 'replica', chargeId]);
    const unknown = await get(`${server.url}/charges/999999999`);
    assert.deepEqual(
      [unknown.status, unknown.source],
      [404, 'primary'],
      'a miss on the replica is confirmed on the primary',
    );
  });

  test('replication paused: a charge made since is still found (rechecked on the primary); balances read stale', async () => {
    await pair.standby.query('SELECT pg_wal_replay_pause()');
    try {
      const charged = await charge(server.url, userId, '1.00', newKey());
      assert.equal(charged.status, 200, charged.body);
      const fresh = await get(`${server.url}/charges/${JSON.parse(charged.body).transaction.id}`);
      assert.deepEqual([fresh.status, fresh.source], [200, 'primary']);
      const stale = await get(`${server.url}/users/${userId}`);
      assert.deepEqual(
        [stale.source, stale.body.balances_minor.USD],
        ['replica', 8500],
        'the replica lags by the paused charge',
      );
    } finally {
      await pair.standby.query('SELECT pg_wal_replay_resume()');
    }
    await pair.caughtUp();
    assert.equal((await get(`${server.url}/users/${userId}`)).body.balances_minor.USD, 8400);
  });

  test('no money operation reached the replica: its statement log has the reads and none of the writes', () => {
    const log = pair.standbyLog();
    for (const read of ['picopay_user_json', 'picopay_transaction_json'])
      assert.match(log, new RegExp(read), `${read} ran on the replica`);
    for (const write of [
      'picopay_charge',
      'picopay_refund',
      'picopay_credit',
      'picopay_create_user',
      'idempotency_keys',
    ]) {
      assert.doesNotMatch(log, new RegExp(write), `${write} never ran on the replica`);
    }
  });

  test('replica stopped: reads degrade to the primary (200, fast), /ready stays ready and reports it down', async () => {
    pair.stopStandby();
    const first = await get(`${server.url}/users/${userId}`);
    assert.deepEqual([first.status, first.source], [200, 'primary']);
    const next = [];
    for (let i = 0; i < 20; i++) next.push(await get(`${server.url}/charges/${chargeId}`));
    assert.ok(next.every((r) => r.status === 200 && r.source === 'primary'));
    // /ready answers from a probe refreshed at most once a second: poll (bounded) until it has seen the stop.
    let ready = await fetch(`${server.url}/ready`);
    let body = (await ready.json()) as { status: string; postgres: string; replica: string };
    for (const deadline = Date.now() + 10_000; body.replica !== 'down' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await fetch(`${server.url}/ready`);
      body = (await ready.json()) as typeof body;
    }
    assert.deepEqual([ready.status, body.status, body.postgres, body.replica], [200, 'ready', 'up', 'down']);
    const slowest = Math.round(Math.max(...next.map((r) => r.ms)));
    summary('scale replica stopped', { firstReadMs: Math.round(first.ms), slowestOf20Ms: slowest });
    assert.ok(first.ms < 2000, `first read after the stop took ${Math.round(first.ms)} ms`);
    assert.ok(slowest < 1000, `reads during the back-off do not wait for the replica (${slowest} ms)`);
  });
});
