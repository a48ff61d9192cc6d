// Scoped keys and ownership (least privilege): a key may do what its scopes say and see what its client made. Another
// client's charge or refund is answered exactly like one that does not exist; in a user's history, other clients'
// entries keep amounts and balances but lose their idempotency key, description and metadata, unless read:all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { keyDigest } from '../../src/auth/key-config.ts';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  KEYS,
  newKey,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();

const RESTRICTED = {
  writer: 'rk_writer_key_000000000000000001', // charges:write only
  reader: 'rk_reader_key_000000000000000002', // charges:read, users:read
  support: 'rk_support_key_00000000000000003', // read:all, refunds:any
  hashed: 'rk_hashed_key_000000000000000004', // configured by digest: charges:write, charges:read
  root: 'rk_root_key_00000000000000000005', // "admin"
} as const;

const dir = mkdtempSync(path.join(tmpdir(), 'picopay-scopes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keysFile = path.join(dir, 'keys.json');
writeFileSync(
  keysFile,
  JSON.stringify({
    keys: [
      { client: 'checkout', key: RESTRICTED.writer, scopes: ['charges:write'] },
      { client: 'checkout', key: RESTRICTED.reader, scopes: ['charges:read', 'users:read'] },
      { client: 'support', key: RESTRICTED.support, scopes: ['read:all', 'refunds:any'] },
      { client: 'hashed', key_sha256: keyDigest(RESTRICTED.hashed), scopes: ['charges:write', 'charges:read'] },
      { client: 'root', key: RESTRICTED.root, scopes: ['admin'] },
    ],
  }),
);
const { app } = await startApp({ APP_KEYS_FILE: keysFile });

const get = (url: string, apiKey: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': apiKey } });
const charge = (userId: number, apiKey: string, extra: Record<string, unknown> = {}) =>
  app.inject(chargeRequest({ user_id: userId, amount: 1, currency: 'USD', ...extra }, newKey(), apiKey));
const refund = (chargeId: number, apiKey: string, body: object = { amount: '0.25' }) =>
  app.inject({
    method: 'POST',
    url: `/charges/${chargeId}/refunds`,
    headers: { 'x-api-key': apiKey, 'idempotency-key': newKey(), 'content-type': 'application/json' },
    payload: body,
  });

function assertInsufficientScope(res: LightMyRequestResponse, scope: string): void {
  assert.equal(res.statusCode, 403, res.body);
  assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, 'insufficient_scope');
  assert.equal(body.scope, scope);
  assert.ok(body.detail.includes(scope), body.detail);
}

/** The 404 body a missing id gets, to compare another client's id against: identical bytes, no existence leak. */
async function missing(app_: FastifyInstance, url: string, apiKey: string): Promise<string> {
  const res = await app_.inject({ method: 'GET', url, headers: { 'x-api-key': apiKey } });
  assert.equal(res.statusCode, 404);
  return res.body;
}

describe('scopes', () => {
  test('a charges:write key charges, and every other route answers 403 naming the scope it lacks', async () => {
    const user = await createUser(app, { USD: 10 });
    const charged = await charge(user.id, RESTRICTED.writer);
    assert.equal(charged.statusCode, 200, charged.body);
    const id = charged.json().transaction.id;
    assertInsufficientScope(await get(`/charges/${id}`, RESTRICTED.writer), 'charges:read');
    assertInsufficientScope(await get(`/users/${user.id}`, RESTRICTED.writer), 'users:read');
    assertInsufficientScope(await get(`/users/${user.id}/transactions`, RESTRICTED.writer), 'users:read');
    assertInsufficientScope(await refund(id, RESTRICTED.writer), 'refunds:write');
    const create = await app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'x-api-key': RESTRICTED.writer, 'content-type': 'application/json' },
      payload: {},
    });
    assertInsufficientScope(create, 'users:write');
    assert.equal(await balanceMinor(app, user.id), 900, 'the refund was not made');
  });

  test('the scope is checked before the body: a key without it learns nothing about the request', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/charge',
      headers: { 'x-api-key': RESTRICTED.reader, 'content-type': 'application/json' },
      payload: '{not json',
    });
    assertInsufficientScope(res, 'charges:write');
  });

  test('a key configured by its SHA-256 digest works like a plain one', async () => {
    const user = await createUser(app, { USD: 10 });
    const charged = await charge(user.id, RESTRICTED.hashed);
    assert.equal(charged.statusCode, 200, charged.body);
    assert.equal((await get(`/charges/${charged.json().transaction.id}`, RESTRICTED.hashed)).statusCode, 200);
  });

  test('"admin" in a key file grants every scope; APP_ADMIN_API_KEYS keys too', async () => {
    for (const key of [RESTRICTED.root, KEYS.admin]) {
      const created = await app.inject({
        method: 'POST',
        url: '/users',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        payload: { balances: { USD: 1 } },
      });
      assert.equal(created.statusCode, 201, created.body);
    }
  });

  test('the OpenAPI document lists the 403 and the scopes of each authenticated route', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [route, method, scope] of [
      ['/charge', 'post', 'charges:write'],
      ['/charges/{id}/refunds', 'post', 'refunds:write'],
      ['/charges/{id}', 'get', 'charges:read'],
      ['/users', 'post', 'users:write'],
      ['/users/{id}', 'get', 'users:read'],
      ['/users/{id}/credits', 'post', 'credits:write'],
    ] as const) {
      const operation = doc.paths[route][method];
      assert.match(operation.responses['403'].description, /insufficient_scope/, route);
      assert.ok(operation.description.includes(`\`${scope}\``), `${route}: ${operation.description}`);
    }
  });
});

describe('ownership', () => {
  test("another client's charge and refund are 404 exactly like missing ones; its own client (any key) sees them", async () => {
    const user = await createUser(app, { USD: 10 });
    const charged = (await charge(user.id, KEYS.checkout)).json().transaction;
    const refunded = (await refund(charged.id, KEYS.checkout)).json().transaction;
    for (const [url, code] of [
      [`/charges/${charged.id}`, 'charge_not_found'],
      [`/refunds/${refunded.id}`, 'refund_not_found'],
    ] as const) {
      const other = await get(url, KEYS.billing);
      assert.equal(other.statusCode, 404);
      assert.equal(other.json().code, code);
      const absent = url.replace(/\d+$/, '9000000000');
      assert.equal(other.body, await missing(app, absent, KEYS.billing), 'the same bytes as an id that does not exist');
      assert.equal((await get(url, KEYS.checkoutRotated)).statusCode, 200, 'a rotated key of the same client');
      assert.equal((await get(url, RESTRICTED.reader)).statusCode, 200, 'a restricted key of the same client');
      assert.equal((await get(url, RESTRICTED.support)).statusCode, 200, 'read:all');
    }
  });

  test("refunding another client's charge is charge_not_found (recorded as such) and moves nothing; refunds:any may", async () => {
    const user = await createUser(app, { USD: 10 });
    const charged = (await charge(user.id, KEYS.checkout)).json().transaction;
    const denied = await refund(charged.id, KEYS.billing);
    assert.equal(denied.statusCode, 404, denied.body);
    const absent = await refund(9_000_000_000, KEYS.billing);
    assert.equal(denied.body, absent.body, 'the same answer as a charge that does not exist');
    assert.equal(await balanceMinor(app, user.id), 900);
    const allowed = await refund(charged.id, RESTRICTED.support);
    assert.equal(allowed.statusCode, 200, allowed.body);
    assert.equal(await balanceMinor(app, user.id), 925);
    const own = await refund(charged.id, KEYS.checkoutRotated);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(await balanceMinor(app, user.id), 950);
  });

  test("a user's history shows other clients' entries without their key, description and metadata", async () => {
    const user = await createUser(app, { USD: 10 });
    const extras = { description: 'order 42 for ada@example.com', metadata: { order: '42' } };
    const mine = (await charge(user.id, KEYS.checkout, extras)).json().transaction;
    const theirs = (await charge(user.id, KEYS.billing, extras)).json().transaction;
    const history = async (apiKey: string) => {
      const res = await get(`/users/${user.id}/transactions`, apiKey);
      assert.equal(res.statusCode, 200, res.body);
      return new Map<number, Record<string, unknown>>(res.json().data.map((t: { id: number }) => [t.id, t]));
    };
    const seenByCheckout = await history(KEYS.checkout);
    assert.deepEqual(seenByCheckout.get(mine.id), mine, 'its own entry whole');
    assert.deepEqual(seenByCheckout.get(theirs.id), {
      ...theirs,
      idempotency_key: null,
      description: null,
      metadata: null,
    });
    const opening = [...seenByCheckout.values()].find((t) => t.description === 'Opening balance');
    assert.ok(opening !== undefined, 'opening balances (no client) stay whole');
    const seenBySupport = await history(RESTRICTED.support);
    assert.deepEqual(seenBySupport.get(mine.id), mine);
    assert.deepEqual(seenBySupport.get(theirs.id), theirs);
    assert.equal(
      (await get(`/users/${user.id}`, KEYS.billing)).json().balances_minor.USD,
      800,
      'balances stay visible',
    );
  });
});
