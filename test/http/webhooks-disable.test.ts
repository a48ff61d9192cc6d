// An endpoint that keeps failing is disabled once it has failed for WEBHOOK_RETRY_PERIOD (compressed to a second
// here), with the reason; every attempt is in its log; the metrics count the failures and the disabling.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser, DATABASE_URL, KEYS, sql, startApp } from '../helpers/app.ts';
import { deleteWebhookFixtures, startReceiver, until } from '../helpers/webhook-receiver.ts';

const created: number[] = [];
after(() => deleteWebhookFixtures(DATABASE_URL, created));
const { app } = await startApp({
  WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
  WEBHOOK_RETRY_BASE_MS: '20',
  WEBHOOK_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_PERIOD: '1s',
  // Published by the test itself (picopay_sequence_events), so that the user's own opening event is published
  // before the endpoint exists and only the synthetic event reaches it.
  EVENTS_SEQUENCE_INTERVAL_MS: '0',
});
const db = sql();

test('an endpoint failing for longer than WEBHOOK_RETRY_PERIOD is disabled, with its reason and a metric', async () => {
  const user = await createUser(app);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  const receiver = await startReceiver(() => 'fail');
  after(() => receiver.close());
  const headers = { 'x-api-key': KEYS.admin, 'content-type': 'application/json' };
  const res = await app.inject({
    method: 'POST',
    url: '/webhook-endpoints',
    headers,
    payload: JSON.stringify({ url: receiver.url, event_types: ['*'] }),
  });
  assert.equal(res.statusCode, 201, res.body);
  const id: number = res.json().id;
  created.push(id);
  await db.query(`INSERT INTO events (type, client, user_id, data) VALUES ('credit.succeeded', 'ops', $1, '{}')`, [
    user.id,
  ]);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  const read = async () =>
    (await app.inject({ method: 'GET', url: `/webhook-endpoints/${id}`, headers: { 'x-api-key': KEYS.admin } })).json();
  await until(async () => (await read()).enabled === false, 20_000, 'the endpoint to be disabled');
  const endpoint = await read();
  assert.match(endpoint.disabled_reason, /failing since .* last: 500/);
  const attempts = receiver.received.length;
  assert.ok(attempts >= 2, `${attempts} attempts`);
  const log = await app.inject({
    method: 'GET',
    url: `/webhook-endpoints/${id}/deliveries?limit=100`,
    headers: { 'x-api-key': KEYS.admin },
  });
  assert.equal(log.json().data.length, Math.min(attempts, 100), 'every attempt logged');
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^webhook_endpoints_disabled_total 1$/m);
  assert.match(metrics, /^webhook_deliveries_total\{result="failed"\} [1-9]/m);
  // The log's retention: attempts older than WEBHOOK_ATTEMPT_RETENTION go, newer ones stay.
  await db.query(`UPDATE webhook_attempts SET attempted_at = now() - interval '31 days' WHERE endpoint_id = $1`, [id]);
  const purged = await db.query(`SELECT picopay_webhook_purge_attempts('30 days', 1000) AS n`);
  assert.equal(purged.rows[0].n, attempts);
  const left = await db.query('SELECT count(*)::int AS n FROM webhook_attempts WHERE endpoint_id = $1', [id]);
  assert.equal(left.rows[0].n, 0);
});
