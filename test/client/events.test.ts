// events.list() and events.iterate() of @picopay/client against the real server over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PicoPay, type PicoPayEvent } from '../../packages/client/src/index.ts';
import { checkInvariantsAfterFile, KEYS, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { url } = await startApp({ EVENTS_SEQUENCE_INTERVAL_MS: '0' }, { listen: true });
const admin = new PicoPay({ baseUrl: url, apiKey: KEYS.admin });
const checkout = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout });
const db = sql();

test('events.list pages by after and filters by type; events.iterate follows has_more to the end', async () => {
  await db.query('SELECT * FROM picopay_sequence_events(1000000)');
  const start = (await admin.events.list({ limit: 1000 })).data;
  let after = start.next_after;
  while ((await admin.events.list({ after, limit: 1000 })).data.has_more)
    after = (await admin.events.list({ after, limit: 1000 })).data.next_after;
  const user = (await admin.users.create({ balances: { USD: '10.00' } })).data;
  const charges = [];
  for (let i = 0; i < 3; i++)
    charges.push((await checkout.charges.create({ user_id: user.id, amount: 1, currency: 'USD' })).data);
  await db.query('SELECT * FROM picopay_sequence_events(1000000)');

  const page = await checkout.events.list({ after, limit: 2, type: ['charge.succeeded'] });
  assert.equal(page.data.data.length, 2);
  assert.equal(page.data.has_more, true);
  assert.deepEqual(
    page.data.data.map((e) => e.data.id),
    charges.slice(0, 2).map((c) => c.transaction.id),
  );
  const all: PicoPayEvent[] = [];
  for await (const event of admin.events.iterate({ after, limit: 1 })) all.push(event);
  assert.deepEqual(
    all.map((e) => e.type),
    ['credit.succeeded', 'charge.succeeded', 'charge.succeeded', 'charge.succeeded'],
  );
  assert.deepEqual(all[1]!.data, charges[0]!.transaction);
});
