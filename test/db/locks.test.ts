// Bounded waits, provoked with real locks held from a side connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  DATABASE_URL,
  newKey,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();

async function sideTransaction(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query('BEGIN');
  return client;
}

test('a key held by an unfinished request answers 409 idempotency_key_in_use after the bounded wait, then executes', async () => {
  const { app } = await startApp({ DB_LOCK_TIMEOUT_MS: '200' });
  const user = await createUser(app, { USD: 10 });
  const key = newKey();
  const side = await sideTransaction();
  try {
    // What a first request in flight looks like: its claim on (client, key), not yet committed.
    await side.query(
      "INSERT INTO idempotency_keys (client, key, operation, fingerprint) VALUES ('checkout', $1, 'charge', '\\x00')",
      [key],
    );
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'idempotency_key_in_use');
    assert.equal(res.headers['retry-after'], '1');
  } finally {
    await side.query('ROLLBACK');
    await side.end();
  }
  const retry = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
  assert.equal(retry.statusCode, 200);
  assert.equal(retry.headers['idempotent-replayed'], undefined);
  assert.equal(await balanceMinor(app, user.id), 900);
});

test('a locked account answers 503 with Retry-After, records nothing, and the pool fails fast for the next caller', async () => {
  const { app } = await startApp({ DB_LOCK_TIMEOUT_MS: '300', DB_POOL_SIZE: '1', DB_CONNECT_TIMEOUT_MS: '100' });
  const user = await createUser(app, { USD: 10 });
  const key = newKey();
  const side = await sideTransaction();
  let locked, queued;
  try {
    await side.query('SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE', [user.id]);
    // The first request holds the only pooled connection while it waits for the row lock; the second waits for
    // the pool and gives up after DB_CONNECT_TIMEOUT_MS.
    [locked, queued] = await Promise.all([
      app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key)),
      app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' })),
    ]);
  } finally {
    await side.query('ROLLBACK');
    await side.end();
  }
  for (const res of [locked, queued]) {
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().code, 'database_unavailable');
    assert.equal(res.headers['retry-after'], '1');
  }
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  const retry = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
  assert.equal(retry.statusCode, 200, 'the 503 was not recorded under the key');
  assert.equal(retry.headers['idempotent-replayed'], undefined);
  assert.equal(await balanceMinor(app, user.id), 900);
});
