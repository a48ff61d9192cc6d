// The client against the real server over real HTTP: lost replies, held keys and final declines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  PicoPay,
  PicoPayApiError,
  PicoPayConnectionError,
  type FetchLike,
  type RetryInfo,
} from '../../packages/client/src/index.ts';
import { checkInvariantsAfterFile, DATABASE_URL, KEYS, newKey, startApp } from '../helpers/app.ts';
import { proxyDroppingFirst } from '../helpers/dropping-proxy.ts';

checkInvariantsAfterFile();
// A short lock wait, so a held key answers 409 quickly.
const { url } = await startApp({ DB_LOCK_TIMEOUT_MS: '200' }, { listen: true });
const admin = new PicoPay({ baseUrl: url, apiKey: KEYS.admin });

/** A fetch that records every attempt's Idempotency-Key before handing it to the real fetch. */
function recording(): { fetch: FetchLike; keys: (string | null)[] } {
  const keys: (string | null)[] = [];
  const recorder: FetchLike = (input, init) => {
    keys.push(new Headers(init.headers).get('idempotency-key'));
    return fetch(input, init);
  };
  return { keys, fetch: recorder };
}

test('a charge whose reply is lost is retried with the same key and returns the original result, debited once', async () => {
  const user = (await admin.users.create({ name: 'lost reply', balances: { USD: '10.00' } })).data;
  const proxy = await proxyDroppingFirst(url, (path) => path === '/charge');
  const attempts = recording();
  const retries: RetryInfo[] = [];
  const client = new PicoPay({
    baseUrl: proxy.url,
    apiKey: KEYS.checkout,
    fetch: attempts.fetch,
    onRetry: (i) => void retries.push(i),
  });

  const result = await client.charges.create({
    user_id: user.id,
    amount: '2.50',
    currency: 'USD',
    description: 'order 1',
  });

  assert.ok(proxy.dropped() !== undefined, 'the first reply was dropped');
  assert.equal(retries.length, 1);
  assert.ok(retries[0]!.error instanceof PicoPayConnectionError);
  assert.equal(result.attempts, 2);
  assert.equal(result.replayed, true);
  assert.deepEqual(result.data, JSON.parse(proxy.dropped()!), 'the original result, not a second charge');
  assert.equal(result.data.new_balance_minor, 750);
  // The same generated key on both attempts (and it is the one the server recorded).
  assert.equal(attempts.keys.length, 2);
  assert.equal(attempts.keys[0], attempts.keys[1]);
  assert.equal(attempts.keys[0], result.idempotencyKey);
  assert.equal(result.data.transaction.idempotency_key, result.idempotencyKey);
  assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 750, 'debited once');
  let entries = 0;
  for await (const tx of client.users.transactions(user.id)) entries += tx.type === 'charge' ? 1 : 0;
  assert.equal(entries, 1);
});

test('a hold and its capture whose replies are lost are retried with their keys: held once, captured once', async () => {
  const user = (await admin.users.create({ name: 'lost hold replies', balances: { USD: '10.00' } })).data;
  const holdProxy = await proxyDroppingFirst(url, (path) => path === '/authorizations');
  const captureProxy = await proxyDroppingFirst(url, (path) => path.endsWith('/capture'));
  const clientVia = (proxyUrl: string, attempts: ReturnType<typeof recording>) =>
    new PicoPay({ baseUrl: proxyUrl, apiKey: KEYS.checkout, fetch: attempts.fetch });

  const holdAttempts = recording();
  const held = await clientVia(holdProxy.url, holdAttempts).authorizations.create({
    user_id: user.id,
    amount: '4.00',
    currency: 'USD',
  });
  assert.ok(holdProxy.dropped() !== undefined, 'the first reply was dropped');
  assert.equal(held.attempts, 2);
  assert.equal(held.replayed, true);
  assert.deepEqual(held.data, JSON.parse(holdProxy.dropped()!), 'the original hold, not a second one');
  assert.deepEqual(holdAttempts.keys, [held.idempotencyKey, held.idempotencyKey]);

  const captureAttempts = recording();
  const captured = await clientVia(captureProxy.url, captureAttempts).authorizations.capture(held.data.id, {
    amount: '1.50',
  });
  assert.equal(captured.attempts, 2);
  assert.equal(captured.replayed, true);
  assert.deepEqual(captured.data, JSON.parse(captureProxy.dropped()!));
  assert.deepEqual(captureAttempts.keys, [captured.idempotencyKey, captured.idempotencyKey]);
  const after = (await admin.users.retrieve(user.id)).data;
  assert.deepEqual(after.balances_minor, { USD: 850 }, 'captured once');
  assert.deepEqual(after.available_balances_minor, { USD: 850 }, 'the rest released, nothing still held');
  let holds = 0;
  for await (const tx of admin.users.transactions(user.id)) holds += tx.type === 'hold' ? 1 : 0;
  assert.equal(holds, 1, 'held once');
});

test('409 idempotency_key_in_use is retried (after Retry-After) to a 200 once the other holder is gone', async () => {
  const user = (await admin.users.create({ balances: { USD: '10.00' } })).data;
  const key = newKey();
  // What a first request still in flight looks like: its claim on (client, key), not yet committed.
  const side = new pg.Client({ connectionString: DATABASE_URL });
  await side.connect();
  try {
    await side.query('BEGIN');
    await side.query(
      "INSERT INTO idempotency_keys (client, key, operation, fingerprint) VALUES ('checkout', $1, 'charge', '\\x00')",
      [key],
    );
    const retries: RetryInfo[] = [];
    const client = new PicoPay({
      baseUrl: url,
      apiKey: KEYS.checkout,
      onRetry: async (info) => {
        retries.push(info);
        // The holder gives up (rolls back) while the client waits: the next attempt finds the key free.
        if (retries.length === 1) await side.query('ROLLBACK');
      },
    });
    const result = await client.charges.create(
      { user_id: user.id, amount: '1.00', currency: 'USD' },
      { idempotencyKey: key },
    );
    assert.equal(result.status, 200);
    assert.equal(result.replayed, false);
    assert.equal(result.attempts, 2);
    assert.equal(retries[0]!.error.status, 409);
    assert.equal(retries[0]!.error.code, 'idempotency_key_in_use');
    assert.equal(retries[0]!.delayMs, 1000, "the server's Retry-After: 1");
    assert.equal(retries[0]!.idempotencyKey, key);
    assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 900);
  } finally {
    await side.end();
  }
});

test('a 400 insufficient_balance decline is final: one HTTP attempt and a typed error', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout, fetch: attempts.fetch });
  const error = await client.charges
    .create({ user_id: user.id, amount: '5.00', currency: 'USD' })
    .catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayApiError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.code, 'insufficient_balance');
  assert.equal(error.detail, 'Insufficient balance');
  assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(error.attempts, 1);
  assert.equal(attempts.keys.length, 1);
  assert.equal(error.idempotencyKey, attempts.keys[0]);
  assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 100);
});

test('a 422 validation error is not retried and lists the fields', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout, fetch: attempts.fetch });
  const error = await client.charges
    .create({ user_id: user.id, amount: '0.001', currency: 'USD', metadata: { '': 'empty key' } })
    .catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayApiError, String(error));
  assert.equal(error.status, 422);
  assert.equal(error.code, 'validation_failed');
  assert.deepEqual(error.errors.map((e) => e.field).sort(), ['amount', 'metadata']);
  assert.equal(attempts.keys.length, 1);
});

test('a bad API key is a 401 unauthorized, not retried', async () => {
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: 'ck_not_a_real_key_zzzzzzzzzzzzzz', fetch: attempts.fetch });
  await assert.rejects(
    client.users.retrieve(1),
    (e: unknown) => e instanceof PicoPayApiError && e.status === 401 && e.code === 'unauthorized',
  );
  assert.equal(attempts.keys.length, 1);
});
