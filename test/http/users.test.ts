import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp();

const admin = { 'x-api-key': KEYS.admin, 'content-type': 'application/json' };
const reader = { 'x-api-key': KEYS.checkout };

function credit(userId: number, payload: unknown, key = newKey()) {
  return app.inject({
    method: 'POST',
    url: `/users/${userId}/credits`,
    headers: { ...admin, 'idempotency-key': key },
    payload: JSON.stringify(payload),
  });
}

describe('users', () => {
  test('POST /users creates a user with opening balances in major and minor units', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: admin,
      payload: { name: 'Ada', balances: { USD: 1000.0, JPY: 500, KWD: '1.5' } },
    });
    assert.equal(res.statusCode, 201);
    const user = res.json();
    assert.equal(user.name, 'Ada');
    assert.deepEqual(user.balances, { JPY: 500, KWD: 1.5, USD: 1000 });
    assert.deepEqual(user.balances_minor, { JPY: 500, KWD: 1500, USD: 100000 });
    assert.match(res.body, /"USD":1000\.0/);
    assert.ok(!Number.isNaN(Date.parse(user.created_at)));
    const fetched = await app.inject({ method: 'GET', url: `/users/${user.id}`, headers: reader });
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.body, res.body);
  });

  test('a user without name or balances is created empty', async () => {
    const res = await app.inject({ method: 'POST', url: '/users', headers: admin, payload: {} });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(
      { ...res.json<object>(), id: 0, created_at: '' },
      {
        id: 0,
        name: null,
        balances: {},
        balances_minor: {},
        available_balances: {},
        available_balances_minor: {},
        created_at: '',
      },
    );
  });

  test('bad opening balances are a 422 listing each field, and no user is created', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: admin,
      payload: { balances: { USD: '1.001', XXX: 1, JPY: -5 } },
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(
      res
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
      ['balances.JPY', 'balances.USD', 'balances.XXX'],
    );
  });

  test('GET /users/{id} of an unknown user is 404 user_not_found; a non-numeric id is 422', async () => {
    const missing = await app.inject({ method: 'GET', url: '/users/8999999999', headers: reader });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'user_not_found');
    const bad = await app.inject({ method: 'GET', url: '/users/abc', headers: reader });
    assert.equal(bad.statusCode, 422);
  });
});

describe('credits', () => {
  test('a credit adds to the balance, opens a new currency account, and replays', async () => {
    const user = await createUser(app, { USD: 1 });
    const key = newKey();
    const first = await credit(user.id, { amount: '2.50', currency: 'EUR' }, key);
    assert.equal(first.statusCode, 200, first.body);
    const body = first.json();
    assert.equal(body.message, 'Credit processed successfully');
    assert.equal(body.transaction.type, 'credit');
    assert.equal(body.transaction.signed_amount_minor, 250);
    assert.equal(body.new_balance, 2.5);
    const replay = await credit(user.id, { amount: 2.5, currency: 'EUR' }, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, first.body);
    const reused = await credit(user.id, { amount: 3, currency: 'EUR' }, key);
    assert.equal(reused.json().code, 'idempotency_key_reused');
    const fetched = (await app.inject({ method: 'GET', url: `/users/${user.id}`, headers: reader })).json();
    assert.deepEqual(fetched.balances_minor, { EUR: 250, USD: 100 });
  });

  test('a key used for a charge cannot be reused for a credit', async () => {
    const user = await createUser(app, { USD: 10 });
    const key = newKey();
    const charged = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key, KEYS.admin));
    assert.equal(charged.statusCode, 200);
    const res = await credit(user.id, { amount: 1, currency: 'USD' }, key);
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'idempotency_key_reused');
  });

  test('crediting an unknown user is a recorded 404; above the largest balance is 422 balance_limit_exceeded', async () => {
    const missing = await credit(8_999_999_999, { amount: 1, currency: 'USD' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'user_not_found');
    const user = await createUser(app, { JPY: 9007199254740000 });
    const over = await credit(user.id, { amount: 992, currency: 'JPY' });
    assert.equal(over.statusCode, 422);
    assert.equal(over.json().code, 'balance_limit_exceeded');
    const exact = await credit(user.id, { amount: 991, currency: 'JPY' });
    assert.equal(exact.statusCode, 200);
    assert.equal(exact.json().new_balance_minor, Number.MAX_SAFE_INTEGER);
  });
});

describe('transactions', () => {
  test('GET /charges/{id} returns the charge object; a credit id or unknown id is 404', async () => {
    const user = await createUser(app, { USD: 10 });
    const charged = await app.inject(
      chargeRequest({ user_id: user.id, amount: 2, currency: 'USD', metadata: { order: '7' } }),
    );
    const tx = charged.json().transaction;
    const res = await app.inject({ method: 'GET', url: `/charges/${tx.id}`, headers: reader });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), tx);
    const credited = await credit(user.id, { amount: 1, currency: 'USD' });
    const notCharge = await app.inject({
      method: 'GET',
      url: `/charges/${credited.json().transaction.id}`,
      headers: reader,
    });
    assert.equal(notCharge.statusCode, 404);
    assert.equal(notCharge.json().code, 'charge_not_found');
  });

  test('GET /users/{id}/transactions pages newest first with next_cursor until null', async () => {
    const user = await createUser(app, { USD: 100 });
    for (let i = 0; i < 5; i++) {
      assert.equal((await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }))).statusCode, 200);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
      const res = await app.inject({ method: 'GET', url: `/users/${user.id}/transactions${query}`, headers: reader });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json();
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((t: { id: number }) => t.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(seen.length, 6, '5 charges and the opening credit');
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
      'newest first',
    );
    assert.equal(pages, 3);
    const tooMany = await app.inject({
      method: 'GET',
      url: `/users/${user.id}/transactions?limit=101`,
      headers: reader,
    });
    assert.equal(tooMany.statusCode, 422);
  });
});
