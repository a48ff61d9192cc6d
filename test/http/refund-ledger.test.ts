// Refunds as the ledger and its readers see them: the refund resource, the charge's refund state, history filters,
// metrics, and the database's own guards and checks (which must hold even for SQL that bypasses the API).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { LEDGER_CHECKS } from '../../src/verify/ledger-checks.ts';
import {
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  DATABASE_URL,
  KEYS,
  newKey,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp();
// Its own registry, so the counts below are this file's requests only.
const { app: metricsApp } = await startApp();
const reader = { 'x-api-key': KEYS.checkout };

function refund(chargeId: number, body: unknown = {}, key = newKey()) {
  return app.inject({
    method: 'POST',
    url: `/charges/${chargeId}/refunds`,
    payload: JSON.stringify(body),
    headers: { ...reader, 'idempotency-key': key, 'content-type': 'application/json' },
  });
}

const get = (url: string) => app.inject({ method: 'GET', url, headers: reader });

async function charge(userId: number, amount: number, key = newKey()) {
  const res = await app.inject(chargeRequest({ user_id: userId, amount, currency: 'USD' }, key));
  assert.equal(res.statusCode, 200, res.body);
  return res;
}

// History fixture: an opening credit, 5 charges, 3 partial refunds.
const user = await createUser(app, { USD: 100 });
const charges: { id: number }[] = [];
for (let i = 0; i < 5; i++) charges.push((await charge(user.id, 1)).json().transaction);
for (const tx of charges.slice(0, 3)) assert.equal((await refund(tx.id, { amount: '0.25' })).statusCode, 200);
type Entry = { id: number; type: string; signed_amount_minor: number; balance_after_minor: number; created_at: string };
const list = async (query: string): Promise<Entry[]> => {
  const res = await get(`/users/${user.id}/transactions?limit=100&${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data;
};
const all = await list('');

describe('reading refunds', () => {
  test('GET /refunds/{id} is the refund object of the refund response; other ids are 404', async () => {
    const user = await createUser(app, { USD: 10 });
    const tx = (await charge(user.id, 5)).json().transaction;
    const refunded = await refund(tx.id, { amount: 2, reason: 'broken' });
    const res = await get(`/refunds/${refunded.json().transaction.id}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), refunded.json().transaction);
    assert.ok(refunded.body.includes(`"transaction":${res.body}`), 'same bytes as in the refund response');
    assert.equal(res.json().charge_id, tx.id);
    for (const url of [`/refunds/${tx.id}`, '/refunds/9000000000', `/charges/${res.json().id}`]) {
      const missing = await get(url);
      assert.equal(missing.statusCode, 404, url);
      assert.equal(missing.json().code, url.startsWith('/refunds/') ? 'refund_not_found' : 'charge_not_found');
    }
  });

  test("a charge's stored response keeps the state at charge time; GET /charges/{id} shows it now", async () => {
    const user = await createUser(app, { USD: 10 });
    const key = newKey();
    const charged = await charge(user.id, 4, key);
    assert.match(charged.body, /"amount_refunded":0\.0,"amount_refunded_minor":0,"refunds":\[\]\}/);
    const refunded = await refund(charged.json().transaction.id, { amount: 1 });
    const replay = await charge(user.id, 4, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, charged.body);
    const now = await get(`/charges/${charged.json().transaction.id}`);
    assert.match(
      now.body,
      new RegExp(
        `"amount_refunded":1\\.0,"amount_refunded_minor":100,"refunds":\\[${refunded.json().transaction.id}\\]\\}$`,
      ),
    );
  });
});

describe('GET /users/{id}/transactions filters', () => {
  test('the history lists charges, credits and refunds with their signed amounts and running balances', () => {
    assert.deepEqual(all.map((e) => e.type).reverse(), [
      'credit',
      ...Array(5).fill('charge'),
      'refund',
      'refund',
      'refund',
    ]);
    assert.deepEqual(
      all.map((e) => e.signed_amount_minor).reverse(),
      [10000, -100, -100, -100, -100, -100, 25, 25, 25],
    );
    assert.equal(all[0]!.balance_after_minor, 10000 - 500 + 75);
  });

  for (const type of ['charge', 'credit', 'refund'] as const) {
    test(`type=${type} lists only ${type}s`, async () => {
      const filtered = await list(`type=${type}`);
      assert.deepEqual(
        filtered,
        all.filter((e) => e.type === type),
      );
      assert.ok(filtered.length > 0);
    });
  }

  test('a filtered history pages with the same cursor protocol', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(
        `/users/${user.id}/transactions?type=charge&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      seen.push(...res.json().data.map((e: Entry) => e.id));
      cursor = res.json().next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(seen, charges.map((c) => c.id).reverse());
    assert.equal(pages, 3);
  });

  test('created_after is inclusive and created_before exclusive, at the precision created_at is shown', async () => {
    const newest = all[0]!.created_at;
    const oldest = all[all.length - 1]!.created_at;
    assert.deepEqual(
      await list(`created_after=${newest}`),
      all.filter((e) => e.created_at >= newest),
    );
    assert.deepEqual(
      await list(`created_before=${newest}`),
      all.filter((e) => e.created_at < newest),
    );
    assert.deepEqual(
      await list(`created_after=${oldest}&created_before=${newest}`),
      all.filter((e) => e.created_at < newest),
    );
    assert.ok(
      (await list(`created_after=${newest}`)).some((e) => e.id === all[0]!.id),
      'the bound itself is included',
    );
    assert.deepEqual(await list('created_before=2000-01-01T00:00:00Z'), []);
    assert.deepEqual(await list('created_after=2999-01-01T00:00:00Z'), []);
    assert.deepEqual(
      await list(`created_after=${encodeURIComponent('2000-01-01T05:00:00+05:00')}&type=refund`),
      all.filter((e) => e.type === 'refund'),
    );
  });

  for (const query of [
    'type=debit',
    'created_after=yesterday',
    'created_after=2024-02-30T00:00:00Z',
    'created_before=2016-12-31T23:59:60Z',
    'created_after=0000-01-01T00:00:00Z',
    'created_before=2024-01-01',
  ]) {
    test(`${query} → 422 validation_failed`, async () => {
      const res = await get(`/users/${user.id}/transactions?${query}`);
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json().code, 'validation_failed');
    });
  }
});

test('metrics: refund_requests_total counts each authenticated refund once by outcome; latency is a histogram', async () => {
  const fresh = metricsApp;
  const user = await createUser(fresh, { USD: 10 });
  const tx = (await fresh.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }))).json().transaction;
  const send = (body: string, key = newKey(), apiKey: string = KEYS.checkout) =>
    fresh.inject({
      method: 'POST',
      url: `/charges/${tx.id}/refunds`,
      payload: body,
      headers: { 'x-api-key': apiKey, 'idempotency-key': key, 'content-type': 'application/json' },
    });
  const key = newKey();
  assert.equal((await send('{"amount":0.5}', key)).statusCode, 200);
  assert.equal((await send('{"amount":0.5}', key)).headers['idempotent-replayed'], 'true');
  assert.equal((await send('{"amount":5}')).statusCode, 422);
  assert.equal((await send('{"amount":0}')).statusCode, 422);
  assert.equal((await send('{}', newKey(), 'wrong-key')).statusCode, 401);
  const text = (await fresh.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(text, /^refund_requests_total\{status="success"\} 1$/m);
  assert.match(text, /^refund_requests_total\{status="idempotent_hit"\} 1$/m);
  assert.match(text, /^refund_requests_total\{status="failed"\} 2$/m);
  assert.match(text, /^refund_request_latency_seconds_count 4$/m);
  assert.match(text, /^refund_request_latency_seconds_bucket\{le="0.0005"\} \d+$/m, "the charge histogram's buckets");
  assert.match(text, /^charge_requests_total\{status="success"\} 1$/m, 'refunds are not counted as charges');
});

describe('database guards and ledger checks', () => {
  async function inRolledBackTransaction(work: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query('BEGIN');
      await work(client);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await client.end();
    }
  }
  const insertRefund = (
    client: pg.Client,
    accountId: string,
    userId: number,
    amount: number,
    refundOf: number | null,
  ) =>
    client.query(
      "INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, refund_of) VALUES ($1, $2, 'refund', $3, 0, $4)",
      [accountId, userId, amount, refundOf],
    );

  test('SQL that bypasses the API can neither over-refund a charge nor refund a non-charge', async () => {
    const user = await createUser(app, { USD: 10 });
    const tx = (await charge(user.id, 5)).json().transaction;
    assert.equal((await refund(tx.id, { amount: 3 })).statusCode, 200);
    const credit = (await get(`/users/${user.id}/transactions?type=credit`)).json().data[0];
    const cases: [number, number | null, RegExp][] = [
      [201, tx.id, /charge_refund_totals_check/], // 3 + 2.01 > 5
      [1, credit.id, /must refund a charge of its own account/],
      [1, null, /ledger_entries_refund_link/],
    ];
    for (const [amount, refundOf, error] of cases) {
      await inRolledBackTransaction(async (client) => {
        const account = await client.query('SELECT id FROM accounts WHERE user_id = $1', [user.id]);
        await assert.rejects(insertRefund(client, account.rows[0].id, user.id, amount, refundOf), error);
      });
    }
    await inRolledBackTransaction(async (client) => {
      const other = await createUser(app, { USD: 1 });
      const account = await client.query('SELECT id FROM accounts WHERE user_id = $1', [other.id]);
      await assert.rejects(
        insertRefund(client, account.rows[0].id, other.id, 1, tx.id),
        /must refund a charge of its own account/,
      );
    });
  });

  test('each refund check finds its counter-example (in temporary tables that shadow the real ones)', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      for (const table of ['accounts', 'ledger_entries', 'charge_refund_totals', 'idempotency_keys']) {
        await client.query(`CREATE TEMP TABLE ${table} (LIKE public.${table} INCLUDING DEFAULTS)`);
      }
      // Charge 2 is refunded 601 of 500 (one refund from another account) and its guard row says 300; a credit is
      // refunded; charge 7 has a refund and no guard row.
      await client.query(`INSERT INTO ledger_entries (id, account_id, user_id, type, amount, balance_after, refund_of) VALUES
        (1, 1, 1, 'credit', 1000, 1000, NULL), (2, 1, 1, 'charge', -500, 500, NULL),
        (3, 1, 1, 'refund', 300, 800, 2), (4, 1, 1, 'refund', 300, 1100, 2),
        (5, 2, 2, 'refund', 1, 1, 2), (6, 1, 1, 'refund', 1, 1101, 1),
        (7, 1, 1, 'charge', -100, 1001, NULL), (8, 1, 1, 'refund', 50, 1051, 7)`);
      await client.query('INSERT INTO charge_refund_totals VALUES (2, 500, 300)');
      const found = async (name: string): Promise<string[]> => {
        const check = LEDGER_CHECKS.find((c) => c.name === name);
        assert.ok(check, name);
        return (await client.query<{ detail: string }>(check.sql)).rows.map((r) => r.detail).sort();
      };
      assert.deepEqual(await found('refunds_within_charge'), ['charge 2: amount 500, refunded 601']);
      assert.deepEqual(await found('refund_of_own_charge'), [
        'refund 5 (account 2) refunds entry 2 (charge, account 1)',
        'refund 6 (account 1) refunds entry 1 (credit, account 1)',
      ]);
      assert.deepEqual(await found('refund_totals_match'), [
        'charge 2: guard amount 500 refunded 300, ledger amount 500 refunded 601',
        'charge 7: guard amount none refunded none, ledger amount 100 refunded 50',
      ]);
    } finally {
      await client.end();
    }
  });
});
