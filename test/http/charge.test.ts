import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  KEYS,
  newKey,
  sql,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp();
const db = sql();

describe('POST /charge outcomes', () => {
  test('a charge debits the balance and answers with the original contract', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 49.9, currency: 'USD' }, key));
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(res.headers['idempotent-replayed'], undefined);
    const body = res.json();
    assert.equal(body.message, 'Charge processed successfully');
    assert.deepEqual(
      { ...body.transaction, id: 0, created_at: '' },
      {
        id: 0,
        type: 'charge',
        user_id: user.id,
        amount: 49.9,
        amount_minor: 4990,
        signed_amount: -49.9,
        signed_amount_minor: -4990,
        currency: 'USD',
        status: 'completed',
        idempotency_key: key,
        description: null,
        metadata: {},
        balance_after: 50.1,
        balance_after_minor: 5010,
        created_at: '',
        amount_refunded: 0,
        amount_refunded_minor: 0,
        refunds: [],
      },
    );
    assert.equal(body.new_balance, 50.1);
    assert.match(res.body, /"amount":49\.9,/, 'amount text is exact');
    assert.match(res.body, /"new_balance":50\.1,/);
    assert.equal(await balanceMinor(app, user.id), 5010);
  });

  test('decimal strings, JPY and KWD amounts convert exactly by ISO 4217 exponent', async () => {
    const user = await createUser(app, { USD: 1, JPY: 1000, KWD: '1.000' });
    const jpy = await app.inject(chargeRequest({ user_id: user.id, amount: '500', currency: 'JPY' }));
    assert.equal(jpy.statusCode, 200, jpy.body);
    assert.match(jpy.body, /"amount":500,"amount_minor":500,/);
    const kwd = await app.inject(chargeRequest({ user_id: user.id, amount: '0.125', currency: 'KWD' }));
    assert.equal(kwd.statusCode, 200, kwd.body);
    assert.match(kwd.body, /"new_balance":0\.875,"new_balance_minor":875}$/);
    const usd = await app.inject(chargeRequest('{"user_id":' + user.id + ',"amount":0.10,"currency":"USD"}'));
    assert.match(usd.body, /"new_balance":0\.9,/);
  });

  test('insufficient balance is a 400 decline that changes nothing', async () => {
    const user = await createUser(app, { USD: 10 });
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 10.01, currency: 'USD' }));
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    assert.deepEqual(res.json(), {
      type: 'urn:picopay:problem:insufficient_balance',
      title: 'Insufficient balance',
      status: 400,
      detail: 'Insufficient balance',
      code: 'insufficient_balance',
    });
    assert.equal(await balanceMinor(app, user.id), 1000);
  });

  test('unknown user is 404 user_not_found', async () => {
    const res = await app.inject(chargeRequest({ user_id: 9_000_000_000, amount: 1, currency: 'USD' }));
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'user_not_found');
  });

  test('no account in that currency is 422 currency_not_supported', async () => {
    const user = await createUser(app, { USD: 10 });
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'EUR' }));
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'currency_not_supported');
  });

  test('a decline is final: the same key replays it even after the balance is topped up', async () => {
    const user = await createUser(app, { USD: 1 });
    const key = newKey();
    const first = await app.inject(chargeRequest({ user_id: user.id, amount: 5, currency: 'USD' }, key));
    assert.equal(first.statusCode, 400);
    const credit = await app.inject({
      method: 'POST',
      url: `/users/${user.id}/credits`,
      headers: { 'x-api-key': KEYS.admin, 'idempotency-key': newKey(), 'content-type': 'application/json' },
      payload: { amount: 100, currency: 'USD' },
    });
    assert.equal(credit.statusCode, 200, credit.body);
    const again = await app.inject(chargeRequest({ user_id: user.id, amount: 5, currency: 'USD' }, key));
    assert.equal(again.statusCode, 400);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.equal(await balanceMinor(app, user.id), 10100);
  });
});

describe('idempotency', () => {
  test('the same key and payload replays the stored response byte for byte, with Idempotent-Replayed', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const payload = {
      user_id: user.id,
      amount: '12.34',
      currency: 'USD',
      description: 'coffee',
      metadata: { order: 'A-1' },
    };
    const first = await app.inject(chargeRequest(payload, key));
    const second = await app.inject(chargeRequest(payload, key));
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.body, first.body);
    assert.equal(await balanceMinor(app, user.id), 10000 - 1234);
    const rows = await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE idempotency_key = $1', [key]);
    assert.equal(rows.rows[0].n, 1);
  });

  test('the same amount written differently (12.5, "12.50") is the same request', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const first = await app.inject(chargeRequest({ user_id: user.id, amount: 12.5, currency: 'USD' }, key));
    const second = await app.inject(chargeRequest({ user_id: user.id, amount: '12.50', currency: 'USD' }, key));
    assert.equal(second.statusCode, 200);
    assert.equal(second.body, first.body);
  });

  for (const [field, change] of [
    ['amount', { amount: 2 }],
    ['currency', { currency: 'JPY' }],
    ['user_id', { user_id: 1 }],
    ['description', { description: 'other' }],
    ['metadata', { metadata: { a: 'b' } }],
  ] as const) {
    test(`the same key with a different ${field} is 422 idempotency_key_reused and charges nothing`, async () => {
      const user = await createUser(app, { USD: 100, JPY: 100 });
      const key = newKey();
      const base = { user_id: user.id, amount: 1, currency: 'USD' };
      assert.equal((await app.inject(chargeRequest(base, key))).statusCode, 200);
      const reused = await app.inject(chargeRequest({ ...base, ...change }, key));
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.json().code, 'idempotency_key_reused');
      assert.equal(await balanceMinor(app, user.id), 9900);
      assert.equal(await balanceMinor(app, user.id, 'JPY'), 100);
    });
  }

  test('keys are scoped per client: another client with the same key makes its own charge', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const body = { user_id: user.id, amount: 1, currency: 'USD' };
    const a = await app.inject(chargeRequest(body, key, KEYS.checkout));
    const b = await app.inject(chargeRequest(body, key, KEYS.billing));
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    assert.equal(b.headers['idempotent-replayed'], undefined);
    assert.notEqual(a.json().transaction.id, b.json().transaction.id);
    assert.equal(await balanceMinor(app, user.id), 9800);
    const otherPayload = await app.inject(chargeRequest({ ...body, amount: 7 }, key, KEYS.billing));
    assert.equal(otherPayload.json().code, 'idempotency_key_reused', 'billing sees only its own key');
  });

  test("a retry with the client's rotated key replays", async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const body = { user_id: user.id, amount: 3, currency: 'USD' };
    const first = await app.inject(chargeRequest(body, key, KEYS.checkout));
    const retry = await app.inject(chargeRequest(body, key, KEYS.checkoutRotated));
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body, first.body);
    assert.equal(await balanceMinor(app, user.id), 9700);
  });

  test('a quoted (RFC 8941) key is the same key as the bare one', async () => {
    const user = await createUser(app, { USD: 100 });
    const body = { user_id: user.id, amount: 1, currency: 'USD' };
    const first = await app.inject(chargeRequest(body, 'order-77'));
    const quoted = await app.inject(chargeRequest(body, '"order-77"'));
    assert.equal(quoted.headers['idempotent-replayed'], 'true');
    assert.equal(quoted.body, first.body);
  });
});

describe('concurrency', () => {
  test('50 concurrent requests with one key: one debit, one ledger row, every answer the same', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const body = { user_id: user.id, amount: 1, currency: 'USD' };
    const results = await Promise.all(Array.from({ length: 50 }, () => app.inject(chargeRequest(body, key))));
    const statuses = results.map((r) => r.statusCode);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(new Set(results.map((r) => r.body)).size, 1);
    assert.equal(results.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1);
    assert.equal(await balanceMinor(app, user.id), 9900);
    const rows = await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE idempotency_key = $1', [key]);
    assert.equal(rows.rows[0].n, 1);
  });

  test('200 concurrent distinct charges with money for 120: exactly 120 succeed and the balance ends at 0', async () => {
    const user = await createUser(app, { USD: '120.00' });
    const results = await Promise.all(
      Array.from({ length: 200 }, () => app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }))),
    );
    const count = (status: number) => results.filter((r) => r.statusCode === status).length;
    assert.equal(count(200), 120);
    assert.equal(count(400), 80);
    assert.equal(await balanceMinor(app, user.id), 0);
  });
});
