// Every client method against the real server over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PicoPay,
  PicoPayApiError,
  PicoPayInsufficientScopeError,
  type Transaction,
} from '../../packages/client/src/index.ts';
import { checkInvariantsAfterFile, KEYS, newKey, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { url } = await startApp({}, { listen: true });
const admin = new PicoPay({ baseUrl: url, apiKey: KEYS.admin });
const checkout = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout });

test('users.create and users.retrieve: exact balances in minor units', async () => {
  const created = await admin.users.create({ name: 'Ada', balances: { USD: '1000.00', JPY: 500, KWD: '1.5' } });
  assert.equal(created.status, 201);
  assert.equal(created.replayed, false);
  assert.equal(created.idempotencyKey, undefined);
  assert.equal(created.data.name, 'Ada');
  assert.deepEqual(created.data.balances_minor, { JPY: 500, KWD: 1500, USD: 100000 });
  const fetched = await checkout.users.retrieve(created.data.id);
  assert.deepEqual(fetched.data, created.data);
  assert.ok(fetched.requestId !== undefined);
  const empty = await admin.users.create();
  assert.deepEqual(empty.data.balances, {});
});

test('users.credit replays with the caller key; charges.create and charges.retrieve agree', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  const key = newKey();
  const credited = await admin.users.credit(
    user.id,
    { amount: '2.25', currency: 'USD', metadata: { ref: 'top-up' } },
    { idempotencyKey: key },
  );
  assert.equal(credited.data.transaction.type, 'credit');
  assert.equal(credited.data.new_balance_minor, 325);
  const again = await admin.users.credit(
    user.id,
    { amount: '2.25', currency: 'USD', metadata: { ref: 'top-up' } },
    { idempotencyKey: key },
  );
  assert.equal(again.replayed, true);
  assert.deepEqual(again.data, credited.data);

  const charged = await checkout.charges.create({ user_id: user.id, amount: 1.2, currency: 'USD' });
  assert.equal(charged.data.message, 'Charge processed successfully');
  assert.equal(charged.data.transaction.amount_minor, 120);
  assert.equal(charged.data.new_balance_minor, 205);
  const retrieved = await checkout.charges.retrieve(charged.data.transaction.id);
  assert.deepEqual(retrieved.data, charged.data.transaction);
});

test('a key reused for another request is a 422 idempotency_key_reused; an unknown charge a 404, neither retried', async () => {
  const user = (await admin.users.create({ balances: { USD: '5.00' } })).data;
  const key = newKey();
  await checkout.charges.create({ user_id: user.id, amount: '1.00', currency: 'USD' }, { idempotencyKey: key });
  await assert.rejects(
    checkout.charges.create({ user_id: user.id, amount: '2.00', currency: 'USD' }, { idempotencyKey: key }),
    (e: unknown) => e instanceof PicoPayApiError && e.code === 'idempotency_key_reused' && e.attempts === 1,
  );
  await assert.rejects(
    checkout.charges.retrieve(999_999_999),
    (e: unknown) =>
      e instanceof PicoPayApiError && e.status === 404 && e.code === 'charge_not_found' && e.attempts === 1,
  );
});

test('users.transactions iterates every page, newest first, following next_cursor until null', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  for (let i = 1; i <= 6; i++) await admin.users.credit(user.id, { amount: `0.0${i}`, currency: 'USD' });
  const seen: Transaction[] = [];
  for await (const tx of checkout.users.transactions(user.id, { limit: 3 })) seen.push(tx);
  assert.equal(seen.length, 7, 'the opening balance and six credits');
  assert.deepEqual(
    seen.map((t) => t.amount_minor),
    [6, 5, 4, 3, 2, 1, 100],
  );
  assert.ok(
    seen.every((t, i) => i === 0 || t.id < seen[i - 1]!.id),
    'newest first, no repeats',
  );
  const pages = [];
  for await (const page of checkout.users.transactions(user.id, { limit: 3 }).pages()) pages.push(page.data);
  assert.deepEqual(
    pages.map((p) => p.data.length),
    [3, 3, 1],
  );
  assert.equal(pages.at(-1)!.next_cursor, null);
  const one = await checkout.users.transactionsPage(user.id, { limit: 3, cursor: pages[0]!.next_cursor! });
  assert.deepEqual(one.data, pages[1]);
});

test('charges.refund returns the money result and replays with its key', async () => {
  // The admin key may call every route, whatever access the refund route ends up requiring.
  const user = (await admin.users.create({ balances: { USD: '10.00' } })).data;
  const charge = (await admin.charges.create({ user_id: user.id, amount: '4.00', currency: 'USD' })).data.transaction;
  const key = newKey();
  const refunded = await admin.charges.refund(
    charge.id,
    { amount: '1.50', reason: 'requested_by_customer' },
    { idempotencyKey: key },
  );
  assert.equal(refunded.status, 200);
  assert.equal(refunded.data.transaction.type, 'refund');
  assert.equal(refunded.data.transaction.amount_minor, 150);
  assert.equal(refunded.data.new_balance_minor, 750);
  assert.equal((await admin.users.retrieve(user.id)).data.balances_minor.USD, 750);
  const again = await admin.charges.refund(
    charge.id,
    { amount: '1.50', reason: 'requested_by_customer' },
    { idempotencyKey: key },
  );
  assert.equal(again.replayed, true);
  assert.deepEqual(again.data, refunded.data);
});

test('a key without the scope gets a typed PicoPayInsufficientScopeError naming it, after one attempt', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  await assert.rejects(
    checkout.users.create({ name: 'not allowed' }),
    (e: unknown) =>
      e instanceof PicoPayInsufficientScopeError &&
      e.status === 403 &&
      e.code === 'insufficient_scope' &&
      e.scope === 'users:write' &&
      e.attempts === 1,
  );
  const billing = new PicoPay({ baseUrl: url, apiKey: KEYS.billing });
  const charged = await checkout.charges.create({ user_id: user.id, amount: '0.50', currency: 'USD' });
  await assert.rejects(
    billing.charges.retrieve(charged.data.transaction.id),
    (e: unknown) => e instanceof PicoPayApiError && e.status === 404 && e.code === 'charge_not_found',
    "another client's charge is not found",
  );
});

test('authorizations: create, capture part, retrieve, void; replays with the caller key; declines are errors', async () => {
  const user = (await admin.users.create({ balances: { USD: '10.00' } })).data;
  const key = newKey();
  const held = await checkout.authorizations.create(
    { user_id: user.id, amount: '4.00', currency: 'USD', expires_in_seconds: 600 },
    { idempotencyKey: key },
  );
  assert.equal(held.status, 201);
  assert.equal(held.data.status, 'pending');
  const again = await checkout.authorizations.create(
    { user_id: user.id, amount: '4.00', currency: 'USD', expires_in_seconds: 600 },
    { idempotencyKey: key },
  );
  assert.equal(again.replayed, true);
  assert.deepEqual(again.data, held.data);
  assert.equal((await checkout.users.retrieve(user.id)).data.available_balances_minor.USD, 600);

  const captured = await checkout.authorizations.capture(held.data.id, { amount: '1.50' });
  assert.equal(captured.data.amount_captured_minor, 150);
  assert.equal(captured.data.amount_released_minor, 250);
  assert.deepEqual((await checkout.authorizations.retrieve(held.data.id)).data, captured.data);

  const second = (await checkout.authorizations.create({ user_id: user.id, amount: 1, currency: 'USD' })).data;
  const voided = await checkout.authorizations.void(second.id);
  assert.equal(voided.data.status, 'voided');
  await assert.rejects(checkout.authorizations.void(second.id), (error: unknown) => {
    assert.ok(error instanceof PicoPayApiError);
    assert.equal(error.code, 'authorization_not_pending');
    return true;
  });
  const user2 = (await checkout.users.retrieve(user.id)).data;
  assert.deepEqual(user2.balances_minor, { USD: 850 });
  assert.deepEqual(user2.available_balances_minor, { USD: 850 });
});
