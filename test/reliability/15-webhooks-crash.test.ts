// Scenario 15: SIGKILL the server while it is delivering a webhook (the receiver holds the request open); restart
// it: once the dead instance's lease expires, every event arrives, in order, signed, the interrupted one again under
// the same webhook-id. Nothing is lost, because the position moves only after a 2xx is recorded.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startReceiver, until } from '../helpers/webhook-receiver.ts';
import { ADMIN_KEY, createFundedUser, DATABASE_URL, post, startServer, summary } from './harness.ts';

const ENV = {
  WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RELAY_INTERVAL_MS: '50',
  // Published by the tests themselves (picopay_sequence_events), so that the user's own opening event is published
  // before the endpoint exists and only the synthetic events reach it.
  EVENTS_SEQUENCE_INTERVAL_MS: '0',
};
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
let endpointId: number | undefined;
after(async () => {
  if (endpointId !== undefined) await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [endpointId]);
  // The synthetic events this file published (no movement behind them) go too: `npm run verify` pairs events with
  // movements, and the next files check it.
  await db.query(`DELETE FROM events WHERE type <> 'charge.declined' AND (data::json ->> 'id') IS NULL`);
  await db.end();
});

test('kill -9 mid-delivery, restart: every event delivered, in order, the interrupted one again with its id', async () => {
  // The first request of the third event never gets an answer: the server is killed while it waits.
  let hung = '';
  const receiver = await startReceiver((attempt, id) => {
    return attempt === 1 && hung === '' && receiverSeen() === 2 ? ((hung = id), 'hang') : 'ok';
  });
  const receiverSeen = (): number => new Set(receiver.received.map((r) => r.id)).size;
  after(() => receiver.close());
  const first = await startServer(ENV);
  const userId = await createFundedUser(first.url, '10.00');
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  const res = await post(
    first.url,
    '/webhook-endpoints',
    { url: receiver.url, event_types: ['*'] },
    undefined,
    ADMIN_KEY,
  );
  assert.equal(res.status, 201, res.body);
  const { id, secret } = JSON.parse(res.body) as { id: number; secret: string };
  endpointId = id;
  for (let i = 0; i < 10; i++)
    await db.query(`INSERT INTO events (type, client, user_id, data) VALUES ('charge.succeeded', 'shop', $1, $2)`, [
      userId,
      JSON.stringify({ i }),
    ]);
  await db.query('SELECT * FROM picopay_sequence_events(1000)');
  await until(() => hung !== '', 20_000, 'the third delivery to be in flight');
  assert.equal(await first.stop('SIGKILL'), null);
  const second = await startServer(ENV);
  after(() => second.stop());
  await until(() => new Set(receiver.delivered()).size >= 10, 60_000, 'every event after the restart');
  const delivered = [...new Set(receiver.delivered())].map((w) => Number(w.replace('evt_', '')));
  assert.deepEqual(
    delivered,
    [...delivered].sort((a, b) => a - b),
    'in seq order',
  );
  receiver.verifyAll(secret);
  const again = receiver.received.filter((r) => r.id === hung);
  assert.deepEqual(
    again.map((r) => r.answer),
    ['hang', 'ok'],
    'the interrupted event came again with the same webhook-id',
  );
  const { rows } = await db.query(
    'SELECT delivered_seq, (SELECT max(seq) FROM events) AS newest FROM webhook_endpoints WHERE id = $1',
    [id],
  );
  assert.equal(rows[0].delivered_seq, rows[0].newest);
  summary('webhooks-crash', { events: 10, requests: receiver.received.length, interrupted: hung });
});
