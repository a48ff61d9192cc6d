// Event retention (EVENT_RETENTION) with a compressed clock: events are aged by moving their created_at back (as the
// table's owner would), never by sleeping. The purge deletes exactly the events past the retention, in small
// batches, through the server's loop and through purgeEvents (what `picopay purge` runs); the ledger stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { purgeEvents } from '../../src/events/purge.ts';
import { chargeRequest, checkInvariantsAfterFile, createUser, DATABASE_URL, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const HOUR = 3_600_000;
const db = sql();
const purgePool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
test.after(() => purgePool.end());

/** Charges `count` times and returns the ids of the charges' events (newest last). */
async function chargeEvents(app: Parameters<typeof createUser>[0], count: number): Promise<number[]> {
  const user = await createUser(app, { USD: 100 });
  for (let i = 0; i < count; i++) {
    const res = await app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }));
    assert.equal(res.statusCode, 200, res.body);
  }
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM events WHERE user_id = $1 AND type = 'charge.succeeded' ORDER BY id",
    [user.id],
  );
  return rows.map((r) => Number(r.id));
}

/**
 * Moves events' creation back by `minutes`, and their charges' too (an event's created_at is its movement's, one
 * transaction): the compressed clock. The ledger's guard triggers refuse any UPDATE, so this session, as the
 * owner, sets session_replication_role = replica for it, as only a test may.
 */
async function age(ids: readonly number[], minutes: number): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const { rowCount } = await client.query(
      'UPDATE events SET created_at = created_at - make_interval(mins => $2) WHERE id = ANY($1)',
      [ids, minutes],
    );
    assert.equal(rowCount, ids.length);
    await client.query(
      `UPDATE ledger_entries SET created_at = created_at - make_interval(mins => $2)
        WHERE id IN (SELECT (data::json ->> 'id')::bigint FROM events WHERE id = ANY($1))`,
      [ids, minutes],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function present(ids: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1) ORDER BY id', [ids]);
  return rows.map((r) => Number(r.id));
}

test('purgeEvents deletes exactly the events older than the retention, a few per statement; entries stay', async () => {
  const { app } = await startApp({ IDEMPOTENCY_PURGE_INTERVAL_MS: '0', EVENTS_SEQUENCE_INTERVAL_MS: '0' });
  const ids = await chargeEvents(app, 7);
  const [old, young] = [ids.slice(0, 5), ids.slice(5)];
  await age(old, 121);
  await age(young, 119);
  const entriesBefore = (await db.query('SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n;
  const result = await purgeEvents(purgePool, { retentionMs: 2 * HOUR, batch: 2, maxSteps: 1000 });
  assert.equal(result.ran, true);
  assert.ok(result.deleted >= 5, `deleted ${result.deleted}`);
  assert.deepEqual(await present(ids), young);
  assert.equal((await db.query('SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n, entriesBefore);
});

test("the server's purge loop deletes events past EVENT_RETENTION", async () => {
  const { app } = await startApp({
    IDEMPOTENCY_PURGE_INTERVAL_MS: '20',
    EVENT_RETENTION: '1h',
    IDEMPOTENCY_PURGE_BATCH: '2',
  });
  const ids = await chargeEvents(app, 3);
  await age(ids.slice(0, 2), 61);
  for (let i = 0; i < 500; i++) {
    if ((await present(ids)).length === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(await present(ids), ids.slice(2));
});

test('EVENT_RETENTION is read like the other durations; a bad value stops start-up', async () => {
  await assert.rejects(startApp({ EVENT_RETENTION: '30 days' }), /EVENT_RETENTION/);
});
