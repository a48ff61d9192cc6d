import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyRing } from '../../src/auth/key-ring.ts';

const CHECKOUT = 'ck_checkout_0000000000000000000001';
const OPS = 'ck_ops_000000000000000000000000002';

test('a key authenticates as its client; anything else, including near misses, does not', () => {
  const ring = createKeyRing([
    { client: 'checkout', key: CHECKOUT, admin: false },
    { client: 'ops', key: OPS, admin: true },
  ]);
  assert.equal(ring.size, 2);
  assert.deepEqual(ring.authenticate(CHECKOUT), { client: 'checkout', admin: false, maskedKey: 'ck_c…0001' });
  assert.equal(ring.authenticate(OPS)?.admin, true);
  for (const wrong of [undefined, '', CHECKOUT.slice(0, -1), `${CHECKOUT} `, CHECKOUT.toUpperCase(), 'x'.repeat(257)]) {
    assert.equal(ring.authenticate(wrong), undefined, JSON.stringify(wrong));
  }
});

test('the same key listed as client and admin keeps admin rights, in either order', () => {
  for (const order of [
    [false, true],
    [true, false],
  ]) {
    const ring = createKeyRing(order.map((admin) => ({ client: admin ? 'ops' : 'checkout', key: CHECKOUT, admin })));
    assert.deepEqual(ring.authenticate(CHECKOUT), { client: 'ops', admin: true, maskedKey: 'ck_c…0001' });
  }
});
