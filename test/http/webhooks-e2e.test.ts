// The whole path of an event, with nothing synthetic: a charge and its refund over HTTP write their events in the
// money transaction (the outbox), the server's sequencer publishes them, its relay POSTs them to a receiver, signed.
// The receiver gets each event's data as the API returned the transaction, with the feed's id as its webhook-id.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  DATABASE_URL,
  KEYS,
  newKey,
  startApp,
} from '../helpers/app.ts';
import { startReceiver, until } from '../helpers/webhook-receiver.ts';

checkInvariantsAfterFile();
const created: number[] = [];
after(async () => {
  const cleanup = new pg.Client({ connectionString: DATABASE_URL });
  await cleanup.connect();
  await cleanup.query('DELETE FROM webhook_endpoints WHERE id = ANY ($1::bigint[])', [created]);
  await cleanup.end();
});
const { app } = await startApp({
  WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
  WEBHOOK_RELAY_INTERVAL_MS: '20',
  EVENTS_SEQUENCE_INTERVAL_MS: '20',
});

test('a charge and its refund reach a webhook endpoint, signed, with the response transaction as data', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  const user = await createUser(app, { USD: 50 });
  const made = await app.inject({
    method: 'POST',
    url: '/webhook-endpoints',
    headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
    payload: JSON.stringify({ url: receiver.url, event_types: ['charge.succeeded', 'refund.succeeded'] }),
  });
  assert.equal(made.statusCode, 201, made.body);
  const { id: endpointId, secret }: { id: number; secret: string } = made.json();
  created.push(endpointId);

  const charge = await app.inject(chargeRequest({ user_id: user.id, amount: '12.50', currency: 'USD' }));
  assert.equal(charge.statusCode, 200, charge.body);
  const transaction = charge.json().transaction;
  const refund = await app.inject({
    method: 'POST',
    url: `/charges/${transaction.id}/refunds`,
    headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': newKey(), 'content-type': 'application/json' },
    payload: JSON.stringify({ amount: '2.50' }),
  });
  assert.equal(refund.statusCode, 200, refund.body);

  await until(() => new Set(receiver.delivered()).size >= 2, 20_000, 'both events delivered');
  receiver.verifyAll(secret);
  const bodies = receiver.received
    .filter((r) => r.answer === 'ok')
    .map((r) => ({ id: r.id, ...(JSON.parse(r.body) as { type: string; data: { id: number } }) }));
  const mine = bodies.filter((b) => [transaction.id, refund.json().transaction.id].includes(b.data.id));
  assert.deepEqual(
    mine.map((b) => b.type),
    ['charge.succeeded', 'refund.succeeded'],
  );
  assert.deepEqual(mine[0]!.data, transaction);
  assert.deepEqual(mine[1]!.data, refund.json().transaction);

  // The webhook-id is the feed's id for the same event: the feed's one event after seq - 1 is this charge.
  const seq = Number(mine[0]!.id.replace(/^evt_/, ''));
  const feed = await app.inject({
    method: 'GET',
    url: `/events?after=${seq - 1}&limit=1`,
    headers: { 'x-api-key': KEYS.checkout },
  });
  assert.equal(feed.statusCode, 200, feed.body);
  const [listed] = feed.json().data as { id: number; type: string; data: { id: number } }[];
  assert.deepEqual([listed?.id, listed?.type, listed?.data.id], [seq, 'charge.succeeded', transaction.id]);
});
