// DATABASE_URL reaching a server that refuses writes (a standby, for a moment during a failover behind HAProxy):
// PostgreSQL raises SQLSTATE 25006 (read_only_sql_transaction). That is the database being unavailable for writes —
// 503 with Retry-After, retry with the same Idempotency-Key — never a 500. The read-only server is the test
// database with default_transaction_read_only, set per connection by the startup packet. Readiness must tell the
// same truth: a server that refuses writes is not ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  DATABASE_URL,
  KEYS,
  newKey,
  sql,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();
const readOnlyUrl = (): string => {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', '-c default_transaction_read_only=on');
  return url.toString();
};

test('money operations on a read-only server: 503 database_unavailable with Retry-After, nothing recorded', async () => {
  const { app: writable } = await startApp();
  const user = await createUser(writable, { USD: 100 });
  const { app } = await startApp({ DATABASE_URL: readOnlyUrl() });
  const key = newKey();
  const charge = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
  assert.equal(charge.statusCode, 503, charge.body);
  assert.equal(charge.headers['retry-after'], '1');
  assert.equal(charge.json().code, 'database_unavailable');
  const created = await app.inject({
    method: 'POST',
    url: '/users',
    headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'read-only', balances: { USD: 1 } }),
  });
  assert.equal(created.statusCode, 503, created.body);
  const { rows } = await sql().query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [key]);
  assert.equal(rows[0].n, 0, 'the refused charge left no trace');
  // The same key on the writable server then executes once.
  const retried = await writable.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
  assert.equal(retried.statusCode, 200, retried.body);
});

test('/ready on a read-only server: 503, postgres down — answering SELECT 1 is not being ready to take writes', async () => {
  const { app } = await startApp({ DATABASE_URL: readOnlyUrl() });
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503, ready.body);
  assert.equal(ready.json().postgres, 'down');
  assert.equal(ready.headers['retry-after'], '1');
  const { app: writable } = await startApp();
  assert.equal((await writable.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
});
