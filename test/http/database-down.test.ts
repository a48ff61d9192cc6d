import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chargeRequest, KEYS, startApp } from '../helpers/app.ts';
import { freePort } from '../helpers/processes.ts';

test('with PostgreSQL unreachable, a charge is a fast 503 with Retry-After and never recorded; liveness stays up', async () => {
  const { app } = await startApp({ DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/none` }, {});
  const res = await app.inject(chargeRequest({ user_id: 1, amount: 1, currency: 'USD' }));
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.json().code, 'database_unavailable');
  assert.doesNotMatch(res.body, /ECONNREFUSED|127\.0\.0\.1|postgres/i, 'no internal detail');
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().postgres, 'down');
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  const user = await app.inject({ method: 'GET', url: '/users/1', headers: { 'x-api-key': KEYS.checkout } });
  assert.equal(user.statusCode, 503);
});
