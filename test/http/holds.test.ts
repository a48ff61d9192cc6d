import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
// No sweeper here: expiry is tested lazily and through the sweeper's function, deterministically.
const { app } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '0', HOLD_MAX_EXPIRY_SECONDS: '86400' });
const db = sql();

function post(url: string, body?: unknown, key: string = newKey(), apiKey: string = KEYS.checkout) {
  const headers: Record<string, string> = { 'x-api-key': apiKey, 'idempotency-key': key };
  if (body === undefined) return app.inject({ method: 'POST', url, headers });
  headers['content-type'] = 'application/json';
  return app.inject({ method: 'POST', url, headers, payload: JSON.stringify(body) });
}

const authorize = (body: Record<string, unknown>, key?: string, apiKey?: string) =>
  post('/authorizations', body, key, apiKey);
const capture = (id: number, body?: unknown, key?: string, apiKey?: string) =>
  post(`/authorizations/${id}/capture`, body, key, apiKey);
const voidHold = (id: number, key?: string, apiKey?: string) =>
  post(`/authorizations/${id}/void`, undefined, key, apiKey);

async function getHold(id: number, apiKey: string = KEYS.checkout) {
  return app.inject({ method: 'GET', url: `/authorizations/${id}`, headers: { 'x-api-key': apiKey } });
}

async function balances(userId: number, currency = 'USD') {
  const res = await app.inject({ method: 'GET', url: `/users/${userId}`, headers: { 'x-api-key': KEYS.checkout } });
  assert.equal(res.statusCode, 200, res.body);
  const user = res.json();
  return { balance: user.balances_minor[currency], available: user.available_balances_minor[currency] };
}

function assertProblem(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  assert.equal(res.json().code, code);
}

async function hold(userId: number, amount: number | string, extra: Record<string, unknown> = {}) {
  const res = await authorize({ user_id: userId, amount, currency: 'USD', ...extra });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: number; [field: string]: unknown }>();
}

/** Moves a hold's expiry into the past, as the table's owner (the API never lets a client do this). */
async function expireNow(id: number): Promise<void> {
  await db.query(`UPDATE authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
}

describe('POST /authorizations', () => {
  test('holds the amount: the available balance drops, the balance does not', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const res = await authorize({ user_id: user.id, amount: 30, currency: 'USD', description: 'ride' }, key);
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.status, 'pending');
    assert.equal(body.amount, 30.0);
    assert.equal(body.amount_minor, 3000);
    assert.equal(body.amount_held_minor, 3000);
    assert.equal(body.amount_captured_minor, 0);
    assert.equal(body.amount_released_minor, 0);
    assert.equal(body.capture_id, null);
    assert.equal(body.idempotency_key, key);
    assert.match(res.body, /"amount":30\.0,/);
    assert.deepEqual(await balances(user.id), { balance: 10000, available: 7000 });

    const replay = await authorize({ user_id: user.id, amount: 30, currency: 'USD', description: 'ride' }, key);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, res.body);
    assert.deepEqual(await balances(user.id), { balance: 10000, available: 7000 });

    const reused = await authorize({ user_id: user.id, amount: 31, currency: 'USD', description: 'ride' }, key);
    assertProblem(reused, 422, 'idempotency_key_reused');
  });

  test('declines against the available balance, recorded under the key', async () => {
    const user = await createUser(app, { USD: 100 });
    await hold(user.id, 80);
    const key = newKey();
    const declined = await authorize({ user_id: user.id, amount: 30, currency: 'USD' }, key);
    assertProblem(declined, 400, 'insufficient_balance');
    const replay = await authorize({ user_id: user.id, amount: 30, currency: 'USD' }, key);
    assert.equal(replay.body, declined.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    // A charge may spend only what is not held.
    const charge = await app.inject(chargeRequest({ user_id: user.id, amount: 30, currency: 'USD' }));
    assertProblem(charge, 400, 'insufficient_balance');
    const fits = await app.inject(chargeRequest({ user_id: user.id, amount: 20, currency: 'USD' }));
    assert.equal(fits.statusCode, 200, fits.body);
    assert.deepEqual(await balances(user.id), { balance: 8000, available: 0 });
    assertProblem(await authorize({ user_id: 999_999_999, amount: 1, currency: 'USD' }), 404, 'user_not_found');
    assertProblem(await authorize({ user_id: user.id, amount: 1, currency: 'EUR' }), 422, 'currency_not_supported');
  });

  test('bad input is a 422 naming the fields, and records nothing', async () => {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const res = await authorize(
      { user_id: user.id, amount: '1.001', currency: 'USD', expires_in_seconds: 86_401, tip: 1 },
      key,
    );
    assertProblem(res, 422, 'validation_failed');
    const tooLong = await authorize({ user_id: user.id, amount: 1, currency: 'USD', expires_in_seconds: 86_401 }, key);
    assertProblem(tooLong, 422, 'validation_failed');
    assert.deepEqual(
      tooLong.json().errors.map((e: { field: string }) => e.field),
      ['expires_in_seconds'],
    );
    const ok = await authorize({ user_id: user.id, amount: 1, currency: 'USD', expires_in_seconds: 60 }, key);
    assert.equal(ok.statusCode, 201, ok.body);
    assertProblem(await post('/authorizations', { user_id: user.id }, undefined), 422, 'validation_failed');
    const noKey = await app.inject({
      method: 'POST',
      url: '/authorizations',
      headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json' },
      payload: JSON.stringify({ user_id: user.id, amount: 1, currency: 'USD' }),
    });
    assertProblem(noKey, 400, 'invalid_idempotency_key');
  });
});

describe('capture and void', () => {
  test('a full capture is a charge of the hold, refundable like any charge', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 40);
    const key = newKey();
    const res = await capture(h.id, undefined, key);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.status, 'captured');
    assert.equal(body.amount_captured_minor, 4000);
    assert.equal(body.amount_held_minor, 0);
    assert.equal(body.amount_released_minor, 0);
    assert.deepEqual(await balances(user.id), { balance: 6000, available: 6000 });
    const replay = await capture(h.id, undefined, key);
    assert.equal(replay.body, res.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');

    const charge = await app.inject({
      method: 'GET',
      url: `/charges/${body.capture_id}`,
      headers: { 'x-api-key': KEYS.checkout },
    });
    assert.equal(charge.statusCode, 200, charge.body);
    assert.equal(charge.json().authorization_id, h.id);
    assert.equal(charge.json().amount_minor, 4000);
    const refund = await post(`/charges/${body.capture_id}/refunds`, { amount: 15 });
    assert.equal(refund.statusCode, 200, refund.body);
    assert.deepEqual(await balances(user.id), { balance: 7500, available: 7500 });
  });

  test('a partial capture releases the rest; a second capture or a void is refused', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 40);
    const res = await capture(h.id, { amount: '12.50' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().amount_captured_minor, 1250);
    assert.equal(res.json().amount_released_minor, 2750);
    assert.deepEqual(await balances(user.id), { balance: 8750, available: 8750 });
    assertProblem(await capture(h.id, { amount: 1 }), 409, 'authorization_already_captured');
    assertProblem(await voidHold(h.id), 409, 'authorization_already_captured');

    const page = await app.inject({
      method: 'GET',
      url: `/users/${user.id}/transactions`,
      headers: { 'x-api-key': KEYS.checkout },
    });
    const types = page
      .json()
      .data.map((t: { type: string; signed_amount_minor: number }) => [t.type, t.signed_amount_minor]);
    assert.deepEqual(types, [
      ['release', 2750],
      ['charge', -1250],
      ['hold', -4000],
      ['credit', 10000],
    ]);
    const holds = await app.inject({
      method: 'GET',
      url: `/users/${user.id}/transactions?type=hold`,
      headers: { 'x-api-key': KEYS.checkout },
    });
    assert.equal(holds.json().data.length, 1);
  });

  test('capture more than held, or an amount the currency cannot express, is refused', async () => {
    const user = await createUser(app, { USD: 100, JPY: 1000 });
    const h = await hold(user.id, 10);
    const key = newKey();
    const over = await capture(h.id, { amount: 10.01 }, key);
    assertProblem(over, 422, 'capture_exceeds_authorization');
    assert.equal((await capture(h.id, { amount: 10.01 }, key)).body, over.body);
    const jpy = await authorize({ user_id: user.id, amount: 100, currency: 'JPY' });
    assert.equal(jpy.statusCode, 201, jpy.body);
    const inexact = await capture(jpy.json().id, { amount: '1.5' });
    assertProblem(inexact, 422, 'validation_failed');
    assertProblem(await capture(h.id, { amount: 0 }), 422, 'validation_failed');
    assert.equal((await capture(h.id, { amount: 10 })).statusCode, 200);
  });

  test('void releases the whole hold once', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 25);
    const key = newKey();
    const res = await voidHold(h.id, key);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'voided');
    assert.equal(res.json().amount_released_minor, 2500);
    assert.deepEqual(await balances(user.id), { balance: 10000, available: 10000 });
    assert.equal((await voidHold(h.id, key)).body, res.body);
    assertProblem(await voidHold(h.id), 409, 'authorization_not_pending');
    assertProblem(await capture(h.id), 409, 'authorization_not_pending');
  });

  test("another client's hold is not found, and an unknown one neither", async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 5);
    assertProblem(await capture(h.id, undefined, newKey(), KEYS.billing), 404, 'authorization_not_found');
    assertProblem(await voidHold(h.id, newKey(), KEYS.billing), 404, 'authorization_not_found');
    assertProblem(await getHold(h.id, KEYS.billing), 404, 'authorization_not_found');
    assertProblem(await getHold(987_654_321), 404, 'authorization_not_found');
    assert.equal((await getHold(h.id, KEYS.admin)).statusCode, 200);
    // The rotated key of the same client owns it too.
    assert.equal((await voidHold(h.id, newKey(), KEYS.checkoutRotated)).statusCode, 200);
  });
});

describe('expiry', () => {
  test('a hold past its expiry is released lazily: reads show it, capture is refused', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 60, { expires_in_seconds: 60 });
    await expireNow(h.id);
    const read = await getHold(h.id);
    assert.equal(read.json().status, 'expired');
    assert.equal(read.json().amount_released_minor, 6000);
    assert.deepEqual(await balances(user.id), { balance: 10000, available: 10000 });
    const key = newKey();
    const res = await capture(h.id, undefined, key);
    assertProblem(res, 422, 'authorization_expired');
    assert.equal((await capture(h.id, undefined, key)).body, res.body);
    assertProblem(await voidHold(h.id), 422, 'authorization_expired');
    const row = await db.query('SELECT status FROM authorizations WHERE id = $1', [h.id]);
    assert.equal(row.rows[0].status, 'expired');
  });

  test('a charge that needs an expired hold released gets it', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 90);
    assertProblem(
      await app.inject(chargeRequest({ user_id: user.id, amount: 50, currency: 'USD' })),
      400,
      'insufficient_balance',
    );
    await expireNow(h.id);
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 50, currency: 'USD' }));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await balances(user.id), { balance: 5000, available: 5000 });
    assert.equal((await db.query('SELECT held FROM accounts WHERE user_id = $1', [user.id])).rows[0].held, '0');
  });

  test('the sweeper settles expired holds nobody touches, one sweeper at a time', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 10);
    await expireNow(h.id);
    const swept = await db.query<{ n: number }>('SELECT picopay_expire_holds(1000) AS n');
    assert.ok(swept.rows[0]!.n >= 1);
    const row = await db.query('SELECT status FROM authorizations WHERE id = $1', [h.id]);
    assert.equal(row.rows[0].status, 'expired');
    // While one transaction sweeps, another's sweep returns -1 at once.
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT picopay_expire_holds(0)');
      const other = await db.query<{ n: number }>('SELECT picopay_expire_holds(10) AS n');
      assert.equal(other.rows[0]!.n, -1);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('npm run verify', () => {
  test('the hold checks find a held amount that is not the pending holds, and a capture above its hold', async () => {
    const { HOLD_CHECKS } = await import('../../src/verify/hold-checks.ts');
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 10);
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const run = async (name: string) => {
        const check = HOLD_CHECKS.find((c) => c.name === name)!;
        return (await client.query<{ detail: string }>(check.sql)).rows.map((r) => r.detail);
      };
      assert.deepEqual(await run('held_equals_pending_holds'), []);
      await client.query('UPDATE accounts SET held = held + 1 WHERE user_id = $1', [user.id]);
      assert.equal((await run('held_equals_pending_holds')).length, 1);
      // The guard trigger is the table owner's to bypass, as a tampering owner would.
      await client.query('ALTER TABLE authorizations DISABLE TRIGGER authorizations_guard');
      await client.query(
        `UPDATE authorizations SET status = 'captured', captured = amount, settled_at = now()
                           WHERE id = $1`,
        [h.id],
      );
      assert.equal((await run('capture_within_hold')).length, 1);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  test('the guard trigger refuses deleting a hold or changing a settled one', async () => {
    const user = await createUser(app, { USD: 100 });
    const h = await hold(user.id, 10);
    await assert.rejects(db.query('DELETE FROM authorizations WHERE id = $1', [h.id]), /never removed/);
    await assert.rejects(db.query('UPDATE authorizations SET amount = 1 WHERE id = $1', [h.id]), /settle once/);
    assert.equal((await voidHold(h.id)).statusCode, 200);
    await assert.rejects(
      db.query(`UPDATE authorizations SET status = 'pending', settled_at = NULL WHERE id = $1`, [h.id]),
      /settle once/,
    );
  });
});

test('the server runs the sweeper every HOLD_SWEEP_INTERVAL_MS', async () => {
  const swept = await startApp({ HOLD_SWEEP_INTERVAL_MS: '50' });
  const user = await createUser(swept.app, { USD: 100 });
  const h = await hold(user.id, 10);
  await expireNow(h.id);
  // Poll for the condition, bounded at 10 s (a few intervals are enough; the bound only ends a failing test).
  const deadline = Date.now() + 10_000;
  let status = 'pending';
  while (status === 'pending' && Date.now() < deadline) {
    status = (await db.query('SELECT status FROM authorizations WHERE id = $1', [h.id])).rows[0].status;
    if (status === 'pending') await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(status, 'expired');
});
