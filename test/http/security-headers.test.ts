import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chargeRequest, createUser, KEYS, startApp } from '../helpers/app.ts';

// OWASP REST Security Cheat Sheet's response headers for a JSON API, on every kind of answer.
const EXPECTED = {
  'cache-control': 'no-store',
  'content-security-policy': "frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

test('security headers and X-Request-Id are on successes, replays, problems and 404s', async () => {
  const { app } = await startApp();
  const user = await createUser(app);
  const key = 'security-headers-replay';
  const answers = {
    health: await app.inject({ method: 'GET', url: '/health' }),
    charge: await app.inject(chargeRequest({ user_id: user.id, amount: '1.00', currency: 'USD' }, key)),
    replay: await app.inject(chargeRequest({ user_id: user.id, amount: '1.00', currency: 'USD' }, key)),
    unauthorized: await app.inject({
      ...chargeRequest({ user_id: user.id, amount: '1.00', currency: 'USD' }),
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k' },
    }),
    notFound: await app.inject({ method: 'GET', url: '/no-such-route', headers: { 'x-api-key': KEYS.checkout } }),
  };
  assert.deepEqual(Object.fromEntries(Object.entries(answers).map(([name, res]) => [name, res.statusCode])), {
    health: 200,
    charge: 200,
    replay: 200,
    unauthorized: 401,
    notFound: 404,
  });
  assert.equal(answers.replay.headers['idempotent-replayed'], 'true');
  for (const [name, res] of Object.entries(answers)) {
    for (const [header, value] of Object.entries(EXPECTED))
      assert.equal(res.headers[header], value, `${name}: ${header}`);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, `${name}: x-request-id`);
  }
});

test('a caller-supplied safe X-Request-Id is echoed back', async () => {
  const { app } = await startApp();
  const res = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-abc.123' } });
  assert.equal(res.headers['x-request-id'], 'trace-abc.123');
});
