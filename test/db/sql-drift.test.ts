// Response bytes are produced in SQL (so a stored response commits with the charge in one round trip); these
// tests hold the SQL renderers equal to the TypeScript definitions they must agree with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Compile } from 'typebox/compile';
import { renderProblem, RECORDED_DECLINES } from '../../src/lib/errors.ts';
import { formatMajorUnits } from '../../src/lib/money.ts';
import { Problem, Transaction } from '../../src/lib/schemas.ts';
import { Authorization } from '../../src/holds/schemas.ts';
import { MoneyMovement } from '../../src/payments/schemas.ts';
import { TransactionPage, User } from '../../src/users/schemas.ts';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp();
const db = sql();

test('picopay_major() renders every amount exactly as formatMajorUnits()', async () => {
  let seed = 42;
  const random = (): bigint => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return BigInt(seed) * BigInt(seed % 4194304);
  };
  const cases: [bigint, number][] = [];
  for (const minor of [0n, 1n, 9n, 10n, 99n, 100n, 101n, 4990n, 5000n, 9007199254740991n]) {
    for (let e = 0; e <= 4; e++) cases.push([minor, e], [-minor, e]);
  }
  for (let i = 0; i < 300; i++) cases.push([random() % 9007199254740991n, i % 5]);
  const result = await db.query<{ text: string }>(
    'SELECT picopay_major(m::bigint, e::smallint)::text AS text FROM unnest($1::text[], $2::int[]) AS t(m, e)',
    [cases.map(([m]) => m.toString()), cases.map(([, e]) => e)],
  );
  result.rows.forEach((row, i) => {
    const [minor, exponent] = cases[i]!;
    assert.equal(row.text, formatMajorUnits(minor, exponent), `${minor} @ ${exponent}`);
  });
});

/** A refund of a charge; no amount: everything not refunded yet. */
function refund(chargeId: number, body: object = {}) {
  return app.inject({
    method: 'POST',
    url: `/charges/${chargeId}/refunds`,
    payload: body,
    headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': newKey(), 'content-type': 'application/json' },
  });
}

/** POST to a hold route under a new key. */
function holdPost(url: string, body: object = {}) {
  return app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': newKey(), 'content-type': 'application/json' },
  });
}

/** One response of each recorded hold decline; every hold body on the way must match its schema. */
async function holdDeclines() {
  const user = await createUser(app, { USD: 10 });
  const hold = async () => {
    const res = await holdPost('/authorizations', { user_id: user.id, amount: 1, currency: 'USD' });
    assert.equal(res.statusCode, 201, res.body);
    assert.ok(Compile(Authorization).Check(res.json()), res.body);
    return res.json().id as number;
  };
  const [captured, voided, expired] = [await hold(), await hold(), await hold()];
  const done = await holdPost(`/authorizations/${captured}/capture`, { amount: '0.25' });
  assert.ok(Compile(Authorization).Check(done.json()), done.body);
  assert.ok(Compile(Authorization).Check((await holdPost(`/authorizations/${voided}/void`)).json()));
  await db.query(`UPDATE authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired]);
  return [
    await holdPost('/authorizations/9000000000/void'),
    await holdPost(`/authorizations/${captured}/capture`),
    await holdPost(`/authorizations/${voided}/capture`),
    await holdPost(`/authorizations/${expired}/capture`),
    await holdPost(`/authorizations/${await hold()}/capture`, { amount: 2 }),
  ];
}

test('every decline recorded in SQL has the bytes renderProblem() gives its code', async () => {
  const user = await createUser(app, { USD: 1, JPY: 9007199254740991 });
  const refunded = (await app.inject(chargeRequest({ user_id: user.id, amount: '0.50', currency: 'USD' }))).json()
    .transaction;
  assert.equal((await refund(refunded.id)).statusCode, 200);
  const bodies = new Map<string, string>();
  const declines = [
    await refund(9_000_000_000),
    await refund(refunded.id),
    await refund(refunded.id, { amount: '0.01' }),
    await app.inject(chargeRequest({ user_id: user.id, amount: 2, currency: 'USD' })),
    await app.inject(chargeRequest({ user_id: 8_999_999_999, amount: 1, currency: 'USD' })),
    await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'EUR' })),
    await app.inject({
      method: 'POST',
      url: `/users/${user.id}/credits`,
      headers: { 'x-api-key': KEYS.admin, 'idempotency-key': newKey(), 'content-type': 'application/json' },
      payload: { amount: 1, currency: 'JPY' },
    }),
  ];
  declines.push(...(await holdDeclines()));
  for (const res of declines) bodies.set(res.json().code, res.body);
  assert.deepEqual([...bodies.keys()].sort(), [...RECORDED_DECLINES].sort());
  for (const [code, body] of bodies) assert.equal(body, renderProblem(code as (typeof RECORDED_DECLINES)[number]));
});

test('SQL-rendered bodies match the response schemas that document them', async () => {
  const user = await createUser(app, { USD: 10 });
  const created = await app.inject({
    method: 'GET',
    url: `/users/${user.id}`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.ok(Compile(User).Check(created.json()), created.body);
  const charged = await app.inject(
    chargeRequest({ user_id: user.id, amount: 1, currency: 'USD', description: 'é "q"', metadata: { k: 'v' } }),
  );
  assert.ok(Compile(MoneyMovement).Check(charged.json()), charged.body);
  assert.equal(charged.json().transaction.description, 'é "q"');
  const tx = await app.inject({
    method: 'GET',
    url: `/charges/${charged.json().transaction.id}`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.ok(Compile(Transaction).Check(tx.json()), tx.body);
  const refunded = await refund(charged.json().transaction.id, { amount: '0.5', reason: 'é "r"' });
  assert.ok(Compile(MoneyMovement).Check(refunded.json()), refunded.body);
  assert.equal(refunded.json().transaction.description, 'é "r"');
  const read = await app.inject({
    method: 'GET',
    url: `/refunds/${refunded.json().transaction.id}`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.ok(Compile(Transaction).Check(read.json()), read.body);
  const after = await app.inject({
    method: 'GET',
    url: `/charges/${charged.json().transaction.id}`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.ok(Compile(Transaction).Check(after.json()), after.body);
  assert.deepEqual(after.json().refunds, [read.json().id]);
  const page = await app.inject({
    method: 'GET',
    url: `/users/${user.id}/transactions`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.ok(Compile(TransactionPage).Check(page.json()), page.body);
  const declined = await app.inject(chargeRequest({ user_id: user.id, amount: 1000, currency: 'USD' }));
  assert.equal(declined.statusCode, 400);
  assert.ok(Compile(Problem).Check(declined.json()), declined.body);
});

test('the response schemas are strict: a field the documentation lacks fails the checks above', () => {
  const transaction = {
    id: 1,
    type: 'charge',
    user_id: 1,
    amount: 1,
    amount_minor: 100,
    signed_amount: -1,
    signed_amount_minor: -100,
    currency: 'USD',
    status: 'completed',
    idempotency_key: null,
    description: null,
    metadata: {},
    balance_after: 0,
    balance_after_minor: 0,
    created_at: '2026-01-01T00:00:00.000Z',
  };
  assert.ok(Compile(Transaction).Check(transaction));
  assert.ok(!Compile(Transaction).Check({ ...transaction, fee_minor: 1 }));
  assert.ok(!Compile(Problem).Check({ ...JSON.parse(renderProblem('user_not_found')), trace: 'x' }));
});
