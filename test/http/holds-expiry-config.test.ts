import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInvariantsAfterFile, createUser, KEYS, newKey, startApp } from '../helpers/app.ts';

// HOLD_DEFAULT_EXPIRY_SECONDS and HOLD_MAX_EXPIRY_SECONDS: a hold's expiry is created_at plus the seconds asked, or
// the default, which is capped at the maximum (both timestamps come from one transaction's now()).
checkInvariantsAfterFile();

async function expirySeconds(env: Record<string, string>, extra: Record<string, unknown> = {}): Promise<number> {
  const { app } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '0', ...env });
  const user = await createUser(app, { USD: 10 });
  const res = await app.inject({
    method: 'POST',
    url: '/authorizations',
    headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': newKey(), 'content-type': 'application/json' },
    payload: JSON.stringify({ user_id: user.id, amount: 1, currency: 'USD', ...extra }),
  });
  assert.equal(res.statusCode, 201, res.body);
  const hold = res.json<{ expires_at: string; created_at: string }>();
  return (Date.parse(hold.expires_at) - Date.parse(hold.created_at)) / 1000;
}

test('without expires_in_seconds a hold lasts HOLD_DEFAULT_EXPIRY_SECONDS; with it, the seconds asked', async () => {
  const env = { HOLD_DEFAULT_EXPIRY_SECONDS: '120', HOLD_MAX_EXPIRY_SECONDS: '3600' };
  assert.equal(await expirySeconds(env), 120);
  assert.equal(await expirySeconds(env, { expires_in_seconds: 3600 }), 3600);
});

test('a default above HOLD_MAX_EXPIRY_SECONDS is capped at the maximum', async () => {
  assert.equal(await expirySeconds({ HOLD_DEFAULT_EXPIRY_SECONDS: '7200', HOLD_MAX_EXPIRY_SECONDS: '600' }), 600);
});
