import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
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
const reader = { 'x-api-key': KEYS.checkout };

/** POST /charges/{id}/refunds; `body` undefined sends no body at all (the default: refund everything left). */
function refund(chargeId: number, body?: unknown, key: string = newKey(), apiKey: string = KEYS.checkout) {
  const headers: Record<string, string> = { 'x-api-key': apiKey, 'idempotency-key': key };
  if (body === undefined) return app.inject({ method: 'POST', url: `/charges/${chargeId}/refunds`, headers });
  headers['content-type'] = 'application/json';
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return app.inject({ method: 'POST', url: `/charges/${chargeId}/refunds`, headers, payload });
}

/** A successful charge; returns its transaction object. */
async function charge(userId: number, amount: number | string, currency = 'USD') {
  const res = await app.inject(chargeRequest({ user_id: userId, amount, currency }));
  assert.equal(res.statusCode, 200, res.body);
  return res.json().transaction as { id: number; [field: string]: unknown };
}

async function getCharge(id: number) {
  const res = await app.inject({ method: 'GET', url: `/charges/${id}`, headers: reader });
  assert.equal(res.statusCode, 200, res.body);
  return { ...res.json(), text: res.body };
}

function assertProblem(res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  assert.equal(res.json().code, code);
  return res.json();
}

// Bad refunds name the charges of `owner`, whose balances must not move.
const owner = await createUser(app, { USD: 100, JPY: 1000, KWD: '1.000' });
const usd = await charge(owner.id, 50);
const jpy = await charge(owner.id, 500, 'JPY');
const kwd = await charge(owner.id, '0.500', 'KWD');
const START = { USD: 5000, JPY: 500, KWD: 500 };

describe('POST /charges/{id}/refunds', () => {
  test('without an amount, the whole charge goes back to the account it came from', async () => {
    const user = await createUser(app, { USD: 100 });
    const tx = await charge(user.id, '40.00');
    const key = newKey();
    const res = await refund(tx.id, undefined, key);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['idempotent-replayed'], undefined);
    const body = res.json();
    assert.equal(body.message, 'Refund processed successfully');
    assert.deepEqual(
      { ...body.transaction, id: 0, created_at: '' },
      {
        id: 0,
        type: 'refund',
        user_id: user.id,
        amount: 40,
        amount_minor: 4000,
        signed_amount: 40,
        signed_amount_minor: 4000,
        currency: 'USD',
        status: 'completed',
        idempotency_key: key,
        description: null,
        metadata: {},
        balance_after: 100,
        balance_after_minor: 10000,
        created_at: '',
        charge_id: tx.id,
      },
    );
    assert.match(res.body, /"amount":40\.0,"amount_minor":4000,/, 'amount text is exact');
    assert.match(res.body, /"new_balance":100\.0,"new_balance_minor":10000}$/);
    assert.ok(body.transaction.id > tx.id);
    assert.equal(await balanceMinor(app, user.id), 10000);
  });

  test('partial refunds add up, the charge shows them, and the rest can be refunded by omitting the amount', async () => {
    const user = await createUser(app, { USD: 100 });
    const tx = await charge(user.id, 50);
    const first = await refund(tx.id, { amount: '12.34', reason: 'damaged item' });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().transaction.amount_minor, 1234);
    assert.equal(first.json().transaction.description, 'damaged item');
    const second = await refund(tx.id, '{"amount":10.1}');
    assert.equal(second.json().transaction.amount_minor, 1010);
    assert.equal(second.json().new_balance_minor, 5000 + 1234 + 1010);
    const partly = await getCharge(tx.id);
    assert.equal(partly.amount_refunded_minor, 2244);
    assert.match(partly.text, /"amount_refunded":22\.44,"amount_refunded_minor":2244,/);
    assert.deepEqual(partly.refunds, [first.json().transaction.id, second.json().transaction.id]);

    const rest = await refund(tx.id, {});
    assert.equal(rest.statusCode, 200, rest.body);
    assert.equal(rest.json().transaction.amount_minor, 5000 - 2244);
    const full = await getCharge(tx.id);
    assert.match(full.text, /"amount_refunded":50\.0,/);
    assert.equal(full.amount_refunded_minor, 5000);
    assert.equal(full.refunds.length, 3);
    assert.equal(await balanceMinor(app, user.id), 10000);

    assertProblem(await refund(tx.id), 422, 'charge_not_refundable');
    assertProblem(await refund(tx.id, { amount: '0.01' }), 422, 'refund_exceeds_charge');
    assert.equal(await balanceMinor(app, user.id), 10000);
  });

  test('the refunds of a charge never exceed it: a larger one is a recorded 422 that changes nothing', async () => {
    const user = await createUser(app, { USD: 10 });
    const tx = await charge(user.id, 10);
    assert.equal((await refund(tx.id, { amount: 6 })).statusCode, 200);
    const key = newKey();
    const over = await refund(tx.id, { amount: '4.01' }, key);
    const problem = assertProblem(over, 422, 'refund_exceeds_charge');
    assert.equal(problem.detail, 'The refund would take the refunded total above the charge amount');
    const replay = await refund(tx.id, { amount: '4.01' }, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, over.body);
    assert.equal(await balanceMinor(app, user.id), 600);
    assert.equal((await refund(tx.id, { amount: 4 })).statusCode, 200, 'exactly what remains is allowed');
    assert.equal(await balanceMinor(app, user.id), 1000);
  });

  test('50 concurrent refunds of 10% each: exactly 10 succeed, the rest are refund_exceeds_charge', async () => {
    const user = await createUser(app, { USD: 100 });
    const tx = await charge(user.id, 100);
    const results = await Promise.all(Array.from({ length: 50 }, () => refund(tx.id, { amount: '10.00' })));
    const ok = results.filter((r) => r.statusCode === 200);
    assert.equal(ok.length, 10);
    for (const r of results.filter((r) => r.statusCode !== 200)) assertProblem(r, 422, 'refund_exceeds_charge');
    assert.equal(await balanceMinor(app, user.id), 10000);
    const after = await getCharge(tx.id);
    assert.equal(after.amount_refunded_minor, 10000);
    assert.deepEqual([...after.refunds].sort(), ok.map((r) => r.json().transaction.id).sort());
    // Each success saw the balance its own refund produced: 10 distinct running balances.
    assert.equal(new Set(ok.map((r) => r.json().new_balance_minor)).size, 10);
  });
});

describe('idempotency', () => {
  test('the same key and request replays byte for byte, with Idempotent-Replayed, and refunds once', async () => {
    const user = await createUser(app, { USD: 100 });
    const tx = await charge(user.id, 30);
    const key = newKey();
    const first = await refund(tx.id, { amount: 10, reason: 'late' }, key);
    const again = await refund(tx.id, { amount: '10.00', reason: 'late' }, key);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    const rotated = await refund(tx.id, { amount: 10, reason: 'late' }, key, KEYS.checkoutRotated);
    assert.equal(rotated.body, first.body, "the client's other key replays too");
    assert.equal(await balanceMinor(app, user.id), 8000);
    const rows = await db.query(
      "SELECT count(*)::int AS n FROM ledger_entries WHERE idempotency_key = $1 AND type = 'refund'",
      [key],
    );
    assert.equal(rows.rows[0].n, 1);
  });

  test('50 concurrent requests with one key: one refund, every answer the same', async () => {
    const user = await createUser(app, { USD: 100 });
    const tx = await charge(user.id, 30);
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 50 }, () => refund(tx.id, undefined, key)));
    assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [200]);
    assert.equal(new Set(results.map((r) => r.body)).size, 1);
    assert.equal(results.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1);
    assert.equal(await balanceMinor(app, user.id), 10000);
  });

  for (const [name, firstBody, secondBody] of [
    ['another amount', { amount: 1 }, { amount: 2 }],
    ['another reason', { amount: 1, reason: 'a' }, { amount: 1, reason: 'b' }],
    ['the whole charge instead of the same amount given explicitly', { amount: 5 }, undefined],
  ] as const) {
    test(`the same key with ${name} is 422 idempotency_key_reused and refunds nothing more`, async () => {
      const user = await createUser(app, { USD: 10 });
      const tx = await charge(user.id, 5);
      const key = newKey();
      assert.equal((await refund(tx.id, firstBody, key)).statusCode, 200);
      const before = await balanceMinor(app, user.id);
      assertProblem(await refund(tx.id, secondBody, key), 422, 'idempotency_key_reused');
      assert.equal(await balanceMinor(app, user.id), before);
    });
  }

  test('a key used for a charge, or for a refund of another charge, cannot be reused', async () => {
    const user = await createUser(app, { USD: 10 });
    const key = newKey();
    const charged = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
    const tx = charged.json().transaction;
    assertProblem(await refund(tx.id, undefined, key), 422, 'idempotency_key_reused');
    const other = await charge(user.id, 1);
    const refundKey = newKey();
    assert.equal((await refund(tx.id, undefined, refundKey)).statusCode, 200);
    assertProblem(await refund(other.id, undefined, refundKey), 422, 'idempotency_key_reused');
    assert.equal(await balanceMinor(app, user.id), 900);
  });
});

describe('what can be refunded', () => {
  test('an unknown id, a credit id or a refund id is a recorded 404 charge_not_found', async () => {
    const user = await createUser(app, { USD: 10 });
    const tx = await charge(user.id, 2);
    const refunded = (await refund(tx.id, { amount: 1 })).json().transaction;
    const opening = (
      await app.inject({ method: 'GET', url: `/users/${user.id}/transactions?type=credit`, headers: reader })
    ).json().data[0];
    for (const id of [9_000_000_000, opening.id, refunded.id]) {
      const key = newKey();
      const res = await refund(id, undefined, key);
      const problem = assertProblem(res, 404, 'charge_not_found');
      assert.equal(problem.detail, 'Charge not found');
      const replay = await refund(id, undefined, key);
      assert.equal(replay.headers['idempotent-replayed'], 'true', 'the decline is recorded');
      assert.equal(replay.body, res.body);
    }
    assert.equal(await balanceMinor(app, user.id), 900);
  });

  test("a client refunds its own charges; another client's is charge_not_found; an admin key may; no key is 401", async () => {
    const user = await createUser(app, { USD: 10 });
    const tx = await charge(user.id, 3);
    const other = await refund(tx.id, { amount: 1 }, newKey(), KEYS.billing);
    assert.equal(other.statusCode, 404, other.body);
    assert.equal(other.json().code, 'charge_not_found');
    assert.equal((await refund(tx.id, { amount: 1 }, newKey(), KEYS.checkoutRotated)).statusCode, 200);
    assert.equal((await refund(tx.id, { amount: 1 }, newKey(), KEYS.admin)).statusCode, 200);
    const anonymous = await app.inject({
      method: 'POST',
      url: `/charges/${tx.id}/refunds`,
      headers: { 'idempotency-key': newKey() },
    });
    assertProblem(anonymous, 401, 'unauthorized');
    assert.equal(await balanceMinor(app, user.id), 900);
  });
});

describe('validation: 422 validation_failed, nothing refunded, the key left unused', () => {
  for (const [name, chargeOf, payload, field, message] of [
    ['amount 0', () => usd, '{"amount":0}', 'amount', /greater than zero/],
    ['amount "0.00"', () => usd, '{"amount":"0.00"}', 'amount', /greater than zero/],
    ['a negative amount', () => usd, '{"amount":-5}', 'amount', /greater than zero/],
    ['amount "abc"', () => usd, '{"amount":"abc"}', 'amount', /decimal string/],
    ['3 decimals on a USD charge', () => usd, '{"amount":"0.001"}', 'amount', /currency allows \(2\)/],
    ['decimals on a JPY charge', () => jpy, '{"amount":1.5}', 'amount', /currency allows \(0\)/],
    ['4 decimals on a KWD charge', () => kwd, '{"amount":"0.0001"}', 'amount', /currency allows \(3\)/],
    ['6 decimals (no currency has them)', () => usd, '{"amount":"1.000001"}', 'amount', /currency allows \(2\)/],
    ['amount null', () => usd, '{"amount":null}', 'amount', /./],
    ['an unknown field', () => usd, '{"amount":1,"currency":"USD"}', 'currency', /not an accepted field/],
    ['a reason of 501 characters', () => usd, JSON.stringify({ reason: 'r'.repeat(501) }), 'reason', /./],
  ] as const) {
    test(`${name} → 422 naming ${field}`, async () => {
      const key = newKey();
      const problem = assertProblem(await refund(chargeOf().id, payload, key), 422, 'validation_failed');
      const errors = problem.errors as { field: string; message: string }[];
      assert.deepEqual(
        errors.map((e) => e.field),
        [field],
        JSON.stringify(errors),
      );
      assert.match(errors[0]!.message, message);
      const rows = await db.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [key]);
      assert.equal(rows.rows[0].n, 0, 'no idempotency record');
      for (const [currency, minor] of Object.entries(START))
        assert.equal(await balanceMinor(app, owner.id, currency), minor);
    });
  }

  test("amounts convert by the charge currency's exponent: 0.001 KWD and 1 JPY refund exactly", async () => {
    const key = newKey();
    const kwdRefund = await refund(kwd.id, { amount: '0.001' }, key);
    assert.equal(kwdRefund.statusCode, 200, kwdRefund.body);
    assert.match(kwdRefund.body, /"amount":0\.001,"amount_minor":1,/);
    const jpyRefund = await refund(jpy.id, { amount: 1 });
    assert.match(jpyRefund.body, /"amount":1,"amount_minor":1,/);
    assert.equal(await refund(kwd.id, { amount: '0.0010' }, key).then((r) => r.headers['idempotent-replayed']), 'true');
    await refund(kwd.id, undefined).then((r) => assert.equal(r.statusCode, 200));
    await refund(jpy.id, undefined).then((r) => assert.equal(r.statusCode, 200));
    assert.equal(await balanceMinor(app, owner.id, 'KWD'), 1000);
    assert.equal(await balanceMinor(app, owner.id, 'JPY'), 1000);
  });

  test('a key rejected for an amount the currency cannot express is free for the corrected request', async () => {
    const key = newKey();
    assertProblem(await refund(usd.id, { amount: '1.005' }, key), 422, 'validation_failed');
    const corrected = await refund(usd.id, { amount: '1.05' }, key);
    assert.equal(corrected.statusCode, 200, corrected.body);
    assert.equal(corrected.headers['idempotent-replayed'], undefined);
  });

  test('a missing Idempotency-Key is 400; a body sent as JSON but empty is 400 invalid_json', async () => {
    const noKey = await app.inject({ method: 'POST', url: `/charges/${usd.id}/refunds`, headers: reader });
    assertProblem(noKey, 400, 'invalid_idempotency_key');
    const empty = await app.inject({
      method: 'POST',
      url: `/charges/${usd.id}/refunds`,
      payload: '',
      headers: { ...reader, 'idempotency-key': newKey(), 'content-type': 'application/json' },
    });
    assertProblem(empty, 400, 'invalid_json');
    assertProblem(await refund(0, undefined), 422, 'validation_failed');
  });
});
