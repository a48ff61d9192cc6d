// The outbox (#18): every committed money movement writes one event in its own transaction, with the bytes of the
// object the API returned; replays write nothing; GET /events pages by seq and shows a client only its own events.
// The sequencer loop is off here (EVENTS_SEQUENCE_INTERVAL_MS=0): the tests publish with picopay_sequence_events
// themselves, except the one that checks the server's loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { EVENT_CHECKS } from '../../src/verify/event-checks.ts';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp({ EVENTS_SEQUENCE_INTERVAL_MS: '0', HOLD_SWEEP_INTERVAL_MS: '0' });
const db = sql();

interface StoredEvent {
  type: string;
  client: string | null;
  data: string;
}

/** The transaction object's bytes inside a money response ({"message", "transaction", "new_balance", ...}). */
function transactionBytes(res: LightMyRequestResponse): string {
  const match = /^\{"message":"[^"]*","transaction":(.*),"new_balance":[^,]*,"new_balance_minor":-?\d+\}$/s.exec(
    res.body,
  );
  assert.ok(match, res.body);
  return match[1]!;
}

async function eventsOf(userId: number): Promise<StoredEvent[]> {
  const { rows } = await db.query<StoredEvent>('SELECT type, client, data FROM events WHERE user_id = $1 ORDER BY id', [
    userId,
  ]);
  return rows;
}

const publish = async (): Promise<void> => void (await db.query('SELECT * FROM picopay_sequence_events(1000000)'));
/** The feed's end after publishing everything committed so far: a test's own events come after it. */
async function lastSeq(): Promise<number> {
  await publish();
  return Number((await db.query('SELECT coalesce(max(seq), 0) AS s FROM events')).rows[0].s);
}

function post(url: string, body: unknown, apiKey: string = KEYS.checkout, key: string = newKey()) {
  const headers: Record<string, string> = { 'x-api-key': apiKey, 'idempotency-key': key };
  if (body === undefined) return app.inject({ method: 'POST', url, headers });
  headers['content-type'] = 'application/json';
  return app.inject({ method: 'POST', url, headers, payload: JSON.stringify(body) });
}

const feed = (query: string, apiKey: string = KEYS.admin) =>
  app.inject({ method: 'GET', url: `/events?${query}`, headers: { 'x-api-key': apiKey } });

test('charge, refund and credit each write one event whose data is the response transaction, byte for byte', async () => {
  const user = await createUser(app, { USD: 100 });
  const charge = await app.inject(chargeRequest({ user_id: user.id, amount: '12.50', currency: 'USD' }));
  assert.equal(charge.statusCode, 200, charge.body);
  const refund = await post(`/charges/${charge.json().transaction.id}/refunds`, { amount: '2.50' });
  assert.equal(refund.statusCode, 200, refund.body);
  const credit = await post(`/users/${user.id}/credits`, { amount: '7.10', currency: 'USD' }, KEYS.admin);
  assert.equal(credit.statusCode, 200, credit.body);
  const events = await eventsOf(user.id);
  assert.deepEqual(
    events.map((e) => [e.type, e.client]),
    [
      ['credit.succeeded', null], // createUser's opening balance is a credit too
      ['charge.succeeded', 'checkout'],
      ['refund.succeeded', 'checkout'],
      ['credit.succeeded', 'ops'],
    ],
  );
  assert.equal(events[1]!.data, transactionBytes(charge));
  assert.equal(events[2]!.data, transactionBytes(refund));
  assert.equal(events[3]!.data, transactionBytes(credit));
});

test('replays write no event; a decline writes one charge.declined, its replay none', async () => {
  const user = await createUser(app, { USD: 10 });
  const key = newKey();
  const body = { user_id: user.id, amount: 4, currency: 'USD' };
  for (let i = 0; i < 3; i++) assert.equal((await app.inject(chargeRequest(body, key))).statusCode, 200);
  const poorKey = newKey();
  const poor = { user_id: user.id, amount: 400, currency: 'USD' };
  for (let i = 0; i < 3; i++) assert.equal((await app.inject(chargeRequest(poor, poorKey))).statusCode, 400);
  const events = await eventsOf(user.id);
  assert.deepEqual(
    events.map((e) => e.type),
    ['credit.succeeded', 'charge.succeeded', 'charge.declined'],
  );
  const declined = JSON.parse(events[2]!.data);
  assert.deepEqual(
    { ...declined, created_at: undefined },
    {
      code: 'insufficient_balance',
      status: 400,
      user_id: user.id,
      currency: 'USD',
      amount_minor: 40000,
      idempotency_key: poorKey,
      created_at: undefined,
    },
  );
  const ghost = await app.inject(chargeRequest({ user_id: 1_999_999_999, amount: 1, currency: 'USD' }));
  assert.equal(ghost.statusCode, 404);
  const { rows } = await db.query("SELECT data FROM events WHERE type = 'charge.declined' AND user_id = 1999999999");
  assert.equal(JSON.parse(rows[0].data).code, 'user_not_found');
});

test('the hold lifecycle: created, captured, voided and expired, each with the authorization the API returned', async () => {
  const user = await createUser(app, { USD: 100 });
  const held = await post('/authorizations', { user_id: user.id, amount: 10, currency: 'USD' });
  assert.equal(held.statusCode, 201, held.body);
  const captured = await post(`/authorizations/${held.json().id}/capture`, { amount: 4 });
  assert.equal(captured.statusCode, 200, captured.body);
  const second = await post('/authorizations', { user_id: user.id, amount: 5, currency: 'USD' });
  const voided = await post(`/authorizations/${second.json().id}/void`, undefined);
  assert.equal(voided.statusCode, 200, voided.body);
  const third = await post('/authorizations', { user_id: user.id, amount: 6, currency: 'USD' });
  await db.query(`UPDATE authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`, [third.json().id]);
  await db.query('SELECT picopay_expire_holds(100)');
  const events = (await eventsOf(user.id)).slice(1);
  assert.deepEqual(
    events.map((e) => [e.type, e.client]),
    [
      ['authorization.created', 'checkout'],
      ['authorization.captured', 'checkout'],
      ['authorization.created', 'checkout'],
      ['authorization.voided', 'checkout'],
      ['authorization.created', 'checkout'],
      ['authorization.expired', 'checkout'],
    ],
  );
  assert.deepEqual(
    events.slice(0, 5).map((e) => e.data),
    [held.body, captured.body, second.body, voided.body, third.body],
  );
  const expired = JSON.parse(events[5]!.data);
  assert.equal(expired.id, third.json().id);
  assert.equal(expired.status, 'expired');
});

test('GET /events: a client sees only its own events, read:all sees every one, data sent as stored', async () => {
  const start = await lastSeq();
  const user = await createUser(app, { USD: 100 });
  const mine = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }));
  const theirs = await app.inject(
    chargeRequest({ user_id: user.id, amount: 2, currency: 'USD' }, newKey(), KEYS.billing),
  );
  await publish();
  const admin = await feed(`after=${start}`);
  assert.equal(admin.statusCode, 200, admin.body);
  assert.deepEqual(
    admin.json().data.map((e: { type: string; client: string }) => [e.type, e.client]),
    [
      ['credit.succeeded', null],
      ['charge.succeeded', 'checkout'],
      ['charge.succeeded', 'billing'],
    ],
  );
  const checkout = await feed(`after=${start}`, KEYS.checkout);
  assert.equal(checkout.statusCode, 200, checkout.body);
  assert.equal(checkout.json().data.length, 1);
  assert.ok(checkout.body.includes(`"data":${transactionBytes(mine)}}`), 'the stored bytes, not re-serialised');
  const billing = await feed(`after=${start}`, KEYS.billing);
  assert.ok(billing.body.includes(`"data":${transactionBytes(theirs)}}`));
  assert.equal(billing.json().data.length, 1);
});

test('GET /events: cursor paging, type filter, strict query, scopes', async () => {
  const start = await lastSeq();
  const user = await createUser(app, { USD: 100 });
  for (let i = 0; i < 5; i++) await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }));
  await publish();
  const seen: number[] = [];
  let after = start;
  for (;;) {
    const page = await feed(`after=${after}&limit=2&type=charge.succeeded`);
    assert.equal(page.statusCode, 200, page.body);
    const body = page.json();
    seen.push(...body.data.map((e: { id: number }) => e.id));
    after = body.next_after;
    if (!body.has_more) break;
  }
  assert.equal(seen.length, 5);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
  const both = await feed(`after=${start}&type=charge.succeeded,credit.succeeded`);
  assert.equal(both.json().data.length, 6);
  const empty = await feed(`after=${after}`);
  assert.deepEqual(empty.json(), { data: [], has_more: false, next_after: after });
  for (const bad of ['after=-1', 'after=abc', 'limit=0', 'limit=1001', 'type=charge.refunded', 'type=', 'foo=1']) {
    const res = await feed(bad);
    assert.equal(res.statusCode, 422, `${bad}: ${res.body}`);
    assert.equal(res.json().code, 'validation_failed');
  }
  const noKey = await app.inject({ method: 'GET', url: '/events' });
  assert.equal(noKey.statusCode, 401);
});

test("the server's sequencer publishes committed events", async () => {
  const { app: live } = await startApp({ EVENTS_SEQUENCE_INTERVAL_MS: '10' });
  const user = await createUser(live, { USD: 100 });
  const res = await live.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }));
  const bytes = transactionBytes(res);
  for (let i = 0; i < 500; i++) {
    const { rows } = await db.query('SELECT seq FROM events WHERE data = $1', [bytes]);
    if (rows[0] !== undefined && rows[0].seq !== null) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the event was not published');
});

test('npm run verify notices a movement without its event and an event without its movement', async () => {
  const user = await createUser(app, { USD: 100 });
  const res = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }));
  const id = res.json().transaction.id;
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query("DELETE FROM events WHERE type = 'charge.succeeded' AND (data::json ->> 'id')::bigint = $1", [
      id,
    ]);
    await client.query(
      `INSERT INTO events (type, client, user_id, data) VALUES ('refund.succeeded', 'checkout', $1, '{"id":0}')`,
      [user.id],
    );
    const { rows } = await client.query(EVENT_CHECKS[0]!.sql);
    assert.deepEqual(rows.map((r: { detail: string }) => r.detail).sort(), [
      `charge.succeeded ${id}: 0 event(s)`,
      'refund.succeeded 0: 1 event(s), no such movement',
    ]);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
