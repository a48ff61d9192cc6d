import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyDigest, loadApiKeys } from '../../src/auth/key-config.ts';
import { createKeyRing, createKeyStore } from '../../src/auth/key-ring.ts';
import { ADMIN_SCOPES, CLIENT_SCOPES } from '../../src/auth/scopes.ts';

const CHECKOUT = 'ck_checkout_0000000000000000000001';
const OPS = 'ck_ops_000000000000000000000000002';

test('a key authenticates as its client with its scopes; anything else, including near misses, does not', () => {
  const ring = createKeyRing(loadApiKeys({ apiKeys: `checkout:${CHECKOUT}`, adminApiKeys: `ops:${OPS}` }));
  assert.equal(ring.size, 2);
  const caller = ring.authenticate(CHECKOUT);
  assert.ok(caller !== undefined);
  assert.equal(caller.client, 'checkout');
  assert.equal(caller.maskedKey, 'ck_c…0001');
  assert.deepEqual([...caller.scopes], [...CLIENT_SCOPES]);
  assert.deepEqual([...ring.authenticate(OPS)!.scopes], [...ADMIN_SCOPES]);
  for (const wrong of [undefined, '', CHECKOUT.slice(0, -1), `${CHECKOUT} `, CHECKOUT.toUpperCase(), 'x'.repeat(257)]) {
    assert.equal(ring.authenticate(wrong), undefined, JSON.stringify(wrong));
  }
});

test('the same key configured twice is a configuration error naming both places, never the key', () => {
  assert.throws(
    () => loadApiKeys({ apiKeys: `checkout:${CHECKOUT}`, adminApiKeys: `ops:${CHECKOUT}` }),
    (error: Error) =>
      /APP_API_KEYS entry 1 and APP_ADMIN_API_KEYS entry 1/.test(error.message) && !error.message.includes(CHECKOUT),
  );
});

test('a key store swaps its whole ring at once', () => {
  const store = createKeyStore(loadApiKeys({ apiKeys: `checkout:${CHECKOUT}` }));
  assert.equal(store.authenticate(CHECKOUT)?.client, 'checkout');
  store.replace([{ client: 'ops', digest: keyDigest(OPS), maskedKey: 'x', scopes: ADMIN_SCOPES, source: 'test' }]);
  assert.equal(store.authenticate(CHECKOUT), undefined);
  assert.equal(store.authenticate(OPS)?.client, 'ops');
});
