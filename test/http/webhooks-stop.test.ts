// Stopping an instance (app.close(), what SIGTERM does through close-with-grace) while a delivery is in flight: the
// request is cut short, nothing is recorded, the lease is released, and the next instance delivers the same event
// again at once (same webhook-id): nothing lost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser, DATABASE_URL, KEYS, sql, startApp } from '../helpers/app.ts';
import { deleteWebhookFixtures, startReceiver, until } from '../helpers/webhook-receiver.ts';

const ENV = {
  WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
  WEBHOOK_RELAY_INTERVAL_MS: '20',
  // Long: the stop, not the timeout, must end the hanging request.
  WEBHOOK_TIMEOUT_MS: '30000',
  // Published by the tests themselves (picopay_sequence_events), so that the user's own opening event is published
  // before the endpoint exists and only the synthetic events reach it.
  EVENTS_SEQUENCE_INTERVAL_MS: '0',
};
const created: number[] = [];
after(() => deleteWebhookFixtures(DATABASE_URL, created));
const db = sql();

test('a delivery in flight when the server stops is delivered again by the next instance, same webhook-id', async () => {
  const receiver = await startReceiver((attempt) => (attempt === 1 ? 'hang' : 'ok'));
  after(() => receiver.close());
  const { app: first } = await startApp(ENV);
  const user = await createUser(first);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  const res = await first.inject({
    method: 'POST',
    url: '/webhook-endpoints',
    headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
    payload: JSON.stringify({ url: receiver.url, event_types: ['*'] }),
  });
  assert.equal(res.statusCode, 201, res.body);
  const { id, secret }: { id: number; secret: string } = res.json();
  created.push(id);
  await db.query(`INSERT INTO events (type, client, user_id, data) VALUES ('credit.succeeded', 'ops', $1, '{}')`, [
    user.id,
  ]);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  await until(() => receiver.received.length === 1, 10_000, 'the first delivery to be in flight');
  await first.close();
  const attempts = await db.query('SELECT count(*)::int AS n FROM webhook_attempts WHERE endpoint_id = $1', [id]);
  assert.equal(attempts.rows[0].n, 0, 'a delivery cut short by the stop is not recorded');
  const lease = await db.query('SELECT lease_owner FROM webhook_endpoints WHERE id = $1', [id]);
  assert.equal(lease.rows[0].lease_owner, null, 'the lease was released');
  await startApp(ENV);
  await until(() => receiver.delivered().length === 1, 10_000, 'the delivery by the next instance');
  assert.deepEqual(
    receiver.received.map((r) => [r.id, r.answer]),
    [
      [receiver.received[0]!.id, 'hang'],
      [receiver.received[0]!.id, 'ok'],
    ],
  );
  receiver.verifyAll(secret);
});
