import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

// Who may settle whose hold (an admin key, like a Stripe platform on its connected accounts, may settle any), and
// what /metrics counts of holds. No sweeper in this app: the metrics test starts one of its own.
checkInvariantsAfterFile();
const { app } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '0' });
const db = sql();

function post(target: FastifyInstance, url: string, apiKey: string, body?: unknown, key: string = newKey()) {
  const headers: Record<string, string> = { 'x-api-key': apiKey, 'idempotency-key': key };
  if (body === undefined) return target.inject({ method: 'POST', url, headers });
  headers['content-type'] = 'application/json';
  return target.inject({ method: 'POST', url, headers, payload: JSON.stringify(body) });
}

async function hold(target: FastifyInstance, userId: number, amount: number, apiKey: string = KEYS.checkout) {
  const res = await post(target, '/authorizations', apiKey, { user_id: userId, amount, currency: 'USD' });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: number }>().id;
}

const get = (id: number, apiKey: string) =>
  app.inject({ method: 'GET', url: `/authorizations/${id}`, headers: { 'x-api-key': apiKey } });

function assertProblem(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json().code, code);
}

async function available(userId: number): Promise<string> {
  const row = await db.query<{ available: string }>(
    `SELECT (balance - held)::text AS available FROM accounts WHERE user_id = $1 AND currency = 'USD'`,
    [userId],
  );
  return row.rows[0]!.available;
}

describe("an admin key settles any client's hold; another client cannot", () => {
  test('admin captures part of a checkout hold; the rest is released; billing is told it does not exist', async () => {
    const user = await createUser(app, { USD: 100 });
    const id = await hold(app, user.id, 40);
    assertProblem(
      await post(app, `/authorizations/${id}/capture`, KEYS.billing, { amount: 1 }),
      404,
      'authorization_not_found',
    );
    assertProblem(await post(app, `/authorizations/${id}/void`, KEYS.billing), 404, 'authorization_not_found');
    assertProblem(await get(id, KEYS.billing), 404, 'authorization_not_found');
    assert.equal(await available(user.id), '6000');

    const key = newKey();
    const captured = await post(app, `/authorizations/${id}/capture`, KEYS.admin, { amount: 15 }, key);
    assert.equal(captured.statusCode, 200, captured.body);
    assert.equal(captured.json().status, 'captured');
    assert.equal(captured.json().amount_captured_minor, 1500);
    assert.equal(captured.json().amount_released_minor, 2500);
    assert.equal(await available(user.id), '8500');
    const replay = await post(app, `/authorizations/${id}/capture`, KEYS.admin, { amount: 15 }, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, captured.body);
    // Both the owner and the admin read it as it is now.
    assert.equal((await get(id, KEYS.admin)).json().status, 'captured');
    assert.equal((await get(id, KEYS.checkout)).json().status, 'captured');
    assertProblem(await post(app, `/authorizations/${id}/void`, KEYS.checkout), 409, 'authorization_already_captured');
    // The capture's charge is the admin client's (its key made it): refunding it takes refunds:any, as any charge.
    const refunds = `/charges/${captured.json().capture_id}/refunds`;
    assertProblem(await post(app, refunds, KEYS.checkout, { amount: 5 }), 404, 'charge_not_found');
    assert.equal((await post(app, refunds, KEYS.admin, { amount: 5 })).statusCode, 200);
  });

  test('admin voids a billing hold; the owner sees it voided; an unknown id is still not found', async () => {
    const user = await createUser(app, { USD: 100 });
    const id = await hold(app, user.id, 30, KEYS.billing);
    assertProblem(await post(app, `/authorizations/${id}/void`, KEYS.checkout), 404, 'authorization_not_found');
    const voided = await post(app, `/authorizations/${id}/void`, KEYS.admin);
    assert.equal(voided.statusCode, 200, voided.body);
    assert.equal(voided.json().status, 'voided');
    assert.equal(await available(user.id), '10000');
    assert.equal((await get(id, KEYS.billing)).json().status, 'voided');
    assertProblem(await post(app, `/authorizations/987654321/void`, KEYS.admin), 404, 'authorization_not_found');
  });
});

async function metric(target: FastifyInstance, line: string): Promise<number> {
  const text = (await target.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}

test('/metrics counts hold requests and the holds authorized, captured, voided and expired by the sweeper', async () => {
  // A fresh app: its counters start at zero. Its sweeper runs often; the holds it must expire are made expired below.
  const { app: counted } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '50' });
  const transitions = (t: string) => metric(counted, `holds_total{transition="${t}"}`);
  const requests = (op: string, s: string) => metric(counted, `hold_requests_total{operation="${op}",status="${s}"}`);
  assert.equal(await transitions('expired'), 0);
  const user = await createUser(counted, { USD: 100 });
  const key = newKey();
  const body = { user_id: user.id, amount: 10, currency: 'USD' };
  assert.equal((await post(counted, '/authorizations', KEYS.checkout, body, key)).statusCode, 201);
  assert.equal((await post(counted, '/authorizations', KEYS.checkout, body, key)).statusCode, 201);
  const toCapture = await hold(counted, user.id, 10);
  const toVoid = await hold(counted, user.id, 10);
  const declined = await post(counted, '/authorizations', KEYS.checkout, { ...body, amount: 1000 });
  assert.equal(declined.statusCode, 400);
  assert.equal(
    (await post(counted, `/authorizations/${toCapture}/capture`, KEYS.checkout, { amount: 4 })).statusCode,
    200,
  );
  assert.equal((await post(counted, `/authorizations/${toVoid}/void`, KEYS.checkout)).statusCode, 200);
  assert.equal((await post(counted, `/authorizations/${toVoid}/void`, KEYS.checkout)).statusCode, 409);

  assert.equal(await requests('authorize', 'success'), 3);
  assert.equal(await requests('authorize', 'idempotent_hit'), 1);
  assert.equal(await requests('authorize', 'failed'), 1);
  assert.equal(await requests('capture', 'success'), 1);
  assert.equal(await requests('void', 'success'), 1);
  assert.equal(await requests('void', 'failed'), 1);
  assert.equal(await transitions('authorized'), 3);
  assert.equal(await transitions('captured'), 1);
  assert.equal(await transitions('voided'), 1);

  // The first hold (the replayed one) and a second expire with nobody touching them: the sweeper releases both.
  const second = await hold(counted, user.id, 5);
  await db.query(
    `UPDATE authorizations SET expires_at = now() - interval '1 second'
      WHERE user_id = $1 AND status = 'pending'`,
    [user.id],
  );
  // Poll for the condition, bounded at 10 s (a few intervals are enough; the bound only ends a failing test).
  const deadline = Date.now() + 10_000;
  while ((await transitions('expired')) < 2 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(await transitions('expired'), 2);
  assert.equal((await get(second, KEYS.checkout)).json().status, 'expired');
});
