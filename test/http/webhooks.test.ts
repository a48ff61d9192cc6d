// Webhooks: the admin API, the SSRF guard at creation, and the relay delivering published events to local receivers
// that fail, time out, answer 500 then 200, or go away for a while: every event arrives, in order, signed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createUser, DATABASE_URL, KEYS, sql, startApp } from '../helpers/app.ts';
import { deleteWebhookFixtures, startReceiver, until, type Receiver } from '../helpers/webhook-receiver.ts';

const ENV = {
  WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
  WEBHOOK_RETRY_BASE_MS: '20',
  WEBHOOK_RELAY_INTERVAL_MS: '20',
  WEBHOOK_TIMEOUT_MS: '300',
  // Published by the tests themselves (picopay_sequence_events), so that the user's own opening event is published
  // before the endpoint exists and only the synthetic events reach it.
  EVENTS_SEQUENCE_INTERVAL_MS: '0',
};
const created: number[] = [];
// Registered first, so it runs before the apps and pools close: later files' servers must not relay to these.
after(() => deleteWebhookFixtures(DATABASE_URL, created));
const { app } = await startApp(ENV);
const db = sql();
const user = await createUser(app);
await db.query('SELECT * FROM picopay_sequence_events(1000)');

function admin(target: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
  return target.inject({
    method,
    url,
    headers: { 'x-api-key': KEYS.admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function endpoint(url: string, eventTypes: string[] = ['charge.succeeded']) {
  const res = await admin(app, 'POST', '/webhook-endpoints', { url, event_types: eventTypes });
  assert.equal(res.statusCode, 201, res.body);
  created.push(res.json().id);
  const made: { id: number; secret: string } = res.json();
  return made;
}

/** Writes events as the money functions will, then publishes them (gives them a seq). */
async function publish(count: number, type = 'charge.succeeded'): Promise<void> {
  for (let i = 0; i < count; i++)
    await db.query('INSERT INTO events (type, client, user_id, data) VALUES ($1, $2, $3, $4)', [
      type,
      'checkout',
      user.id,
      JSON.stringify({ n: i, type }),
    ]);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
}

/** Every id delivered at least once, first deliveries in increasing seq order. */
function assertInOrder(receiver: Receiver, count: number): void {
  const firsts = [...new Set(receiver.delivered())];
  assert.equal(firsts.length, count, `${firsts.length} of ${count} delivered`);
  const seqs = firsts.map((id) => Number(id.replace('evt_', '')));
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'in seq order',
  );
}

describe('the admin API', () => {
  test('loopback, private, link-local, metadata, credentials and other schemes are refused with 422', async () => {
    for (const url of [
      'http://10.1.2.3/x',
      'http://192.168.1.1/x',
      'http://172.20.0.1/x',
      'http://100.64.0.1/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/x',
      'http://[fe80::1]/x',
      'http://[fd00::1]/x',
      'http://[::ffff:10.0.0.1]/x',
      'http://0.0.0.0/x',
      'http://224.0.0.1/x',
      'http://localhost.allowed.example:1/x',
      'https://user:pw@example.com/x',
      'ftp://example.com/x',
      'not a url',
    ]) {
      const res = await admin(app, 'POST', '/webhook-endpoints', { url, event_types: ['*'] });
      assert.equal(res.statusCode, 422, `${url}: ${res.body}`);
      assert.equal(res.json().code, url === 'not a url' ? 'webhook_url_refused' : 'webhook_url_refused', url);
      assert.doesNotMatch(res.body, /whsec_/);
    }
    const { app: strict } = await startApp({ WEBHOOK_RELAY_INTERVAL_MS: '0' });
    const loopback = await admin(strict, 'POST', '/webhook-endpoints', {
      url: 'http://127.0.0.1:9/x',
      event_types: ['*'],
    });
    assert.equal(loopback.statusCode, 422, 'loopback without an allowlist entry');
  });

  test('the allowlist lets 127.0.0.1 through; the secret is shown once, never in GET; admin scope only', async () => {
    const receiver = await startReceiver();
    after(() => receiver.close());
    const made = await endpoint(receiver.url);
    assert.match(made.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const one = await admin(app, 'GET', `/webhook-endpoints/${made.id}`);
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.json().enabled, true);
    const list = await admin(app, 'GET', '/webhook-endpoints?limit=100');
    for (const body of [one.body, list.body]) assert.ok(!body.includes(made.secret.slice(6)), 'no secret');
    assert.ok(list.json().data.some((e: { id: number }) => e.id === made.id));
    const client = await app.inject({
      method: 'GET',
      url: '/webhook-endpoints',
      headers: { 'x-api-key': KEYS.checkout },
    });
    assert.equal(client.statusCode, 403);
    const unknown = await admin(app, 'POST', '/webhook-endpoints', { url: receiver.url, event_types: ['*'], x: 1 });
    assert.equal(unknown.statusCode, 422);
    assert.equal((await admin(app, 'GET', '/webhook-endpoints/999999999')).statusCode, 404);
    assert.equal((await admin(app, 'DELETE', `/webhook-endpoints/${made.id}`)).statusCode, 204);
    assert.equal((await admin(app, 'GET', `/webhook-endpoints/${made.id}`)).json().code, 'webhook_endpoint_not_found');
  });
});

describe('the relay', () => {
  test('failing the first 3 times, timing out, 500 then 200: every event arrives in order, signed', async () => {
    const behaviours = {
      failing: (n: number) => (n <= 3 ? 'fail' : 'ok'),
      timeout: (n: number) => (n === 1 ? 'hang' : 'ok'),
      flaky: (n: number) => (n === 1 ? 'fail' : 'ok'),
      reset: (n: number) => (n <= 2 ? 'reset' : 'ok'),
    } as const;
    const receivers = await Promise.all(Object.values(behaviours).map((b) => startReceiver(b)));
    after(() => Promise.all(receivers.map((r) => r.close())));
    const endpoints = await Promise.all(receivers.map((r) => endpoint(r.url)));
    await publish(5);
    await publish(2, 'refund.succeeded'); // not subscribed
    await publish(3);
    await until(() => receivers.every((r) => new Set(r.delivered()).size >= 8), 30_000, 'all deliveries');
    receivers.forEach((receiver, i) => {
      assertInOrder(receiver, 8);
      receiver.verifyAll(endpoints[i]!.secret);
      assert.ok(!receiver.received.some((r) => r.body.includes('refund.succeeded')), 'only subscribed types');
      const body = JSON.parse(receiver.received[0]!.body);
      assert.deepEqual(Object.keys(body), ['type', 'timestamp', 'data']);
    });
    const failing = receivers[0]!;
    const first = failing.received.filter((r) => r.id === failing.received[0]!.id);
    assert.equal(first.length, 4, 'three failures, then delivered: one webhook-id');
    assert.equal(new Set(first.map((r) => r.body)).size, 1, 'the same body every time');
    const log = await admin(app, 'GET', `/webhook-endpoints/${endpoints[0]!.id}/deliveries?limit=100`);
    assert.equal(log.statusCode, 200, log.body);
    const attempts = log.json().data as { delivered: boolean; status: number | null; attempt: number }[];
    assert.deepEqual(
      attempts.slice(0, 4).map((a) => [a.attempt, a.status, a.delivered]),
      [
        [1, 500, false],
        [2, 500, false],
        [3, 500, false],
        [4, 200, true],
      ],
    );
    const timedOut = await admin(app, 'GET', `/webhook-endpoints/${endpoints[1]!.id}/deliveries`);
    assert.match(timedOut.json().data[0].error, /timeout/);
  });

  test('a receiver that goes away for a while gets everything when it comes back', async () => {
    const receiver = await startReceiver();
    const made = await endpoint(receiver.url);
    await receiver.close();
    await publish(4);
    await until(
      async () => (await admin(app, 'GET', `/webhook-endpoints/${made.id}`)).json().failures >= 2,
      10_000,
      'failed attempts on the closed port',
    );
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, new RegExp(`^webhook_oldest_undelivered_seconds\\{endpoint="${made.id}"\\} `, 'm'));
    await receiver.reopen();
    after(() => receiver.close());
    await until(() => new Set(receiver.delivered()).size >= 4, 30_000, 'deliveries after the receiver came back');
    assertInOrder(receiver, 4);
    receiver.verifyAll(made.secret);
    const log = (await admin(app, 'GET', `/webhook-endpoints/${made.id}/deliveries?limit=100`)).json().data;
    assert.ok(
      log.some((a: { error: string | null }) => a.error === 'ECONNREFUSED'),
      JSON.stringify(log[0]),
    );
  });

  test('two instances relaying one endpoint never have one event in flight twice', async () => {
    const { app: second } = await startApp(ENV);
    assert.ok(second);
    const receiver = await startReceiver((n) => (n === 1 && Math.random() < 0.3 ? 'fail' : 'ok'), { delayMs: 5 });
    after(() => receiver.close());
    const made = await endpoint(receiver.url, ['*']);
    await publish(30);
    await until(() => new Set(receiver.delivered()).size >= 30, 60_000, '30 deliveries');
    assert.equal(receiver.overlaps(), 0, 'no webhook-id in flight twice at once');
    assertInOrder(receiver, 30);
    receiver.verifyAll(made.secret);
  });
});
