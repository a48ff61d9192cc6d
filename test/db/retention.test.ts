// Idempotency retention with a compressed clock: records are aged by moving their created_at back (as the table's
// owner would), never by sleeping. A record older than IDEMPOTENCY_RETENTION is not replayed (its key is new again),
// the purge deletes exactly the expired records in small batches while charges keep flowing, and a purge racing
// retries of an expiring key leaves one outcome. The apps here cache nothing in process and use no Redis, so every
// retry reaches PostgreSQL, the authority being tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { purgeExpired } from '../../src/idempotency/purge.ts';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  DATABASE_URL,
  newKey,
  sql,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();
const HOUR = 3_600_000;
const retention = { retentionMs: 2 * HOUR, declineRetentionMs: HOUR };
const env = {
  IDEMPOTENCY_RETENTION: '2h',
  IDEMPOTENCY_DECLINE_RETENTION: '1h',
  IDEMPOTENCY_PURGE_INTERVAL_MS: '0',
  MEMORY_CACHE_ENTRIES: '0',
  REDIS_URL: '',
};
const db = sql();
const purgePool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
test.after(() => purgePool.end());

/** Moves records' creation back by `minutes`: the compressed clock. */
async function age(keys: readonly string[], minutes: number): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE idempotency_keys SET created_at = created_at - make_interval(mins => $2) WHERE key = ANY($1)`,
    [keys, minutes],
  );
  assert.equal(rowCount, keys.length);
}

async function present(keys: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [keys]);
  return new Set(rows.map((r) => r.key));
}

test('a key older than the retention is new again: a retry debits again, even before any purge', async () => {
  const { app } = await startApp(env);
  const user = await createUser(app, { USD: 100 });
  const key = newKey();
  const body = { user_id: user.id, amount: 10, currency: 'USD' };
  const first = await app.inject(chargeRequest(body, key));
  assert.equal(first.statusCode, 200, first.body);
  const replay = await app.inject(chargeRequest(body, key));
  assert.equal(replay.body, first.body, 'within the retention: replayed');
  await age([key], 119);
  const stillYoung = await app.inject(chargeRequest(body, key));
  assert.equal(stillYoung.body, first.body, 'one minute before expiry: still replayed');
  assert.equal(await balanceMinor(app, user.id), 9000);
  await age([key], 2);
  const again = await app.inject(chargeRequest(body, key));
  assert.equal(again.statusCode, 200, again.body);
  assert.notEqual(again.json().transaction.id, first.json().transaction.id, 'a new charge');
  assert.equal(await balanceMinor(app, user.id), 8000);
  const replayOfNew = await app.inject(chargeRequest(body, key));
  assert.equal(replayOfNew.body, again.body, 'the new record replays');
  // The old entry stays for audit, under the same key.
  const { rows } = await db.query('SELECT id FROM ledger_entries WHERE idempotency_key = $1', [key]);
  assert.equal(rows.length, 2);
});

test('a decline for a user that does not exist lives only the decline retention; a real decline lives on', async () => {
  const { app } = await startApp(env);
  const user = await createUser(app, { USD: 1 });
  const ghost = { user_id: 2_000_000_000, amount: 5, currency: 'USD' };
  const poor = { user_id: user.id, amount: 5, currency: 'USD' };
  const [ghostKey, poorKey] = [newKey(), newKey()];
  assert.equal((await app.inject(chargeRequest(ghost, ghostKey))).statusCode, 404);
  assert.equal((await app.inject(chargeRequest(poor, poorKey))).statusCode, 400);
  await age([ghostKey, poorKey], 61);
  const result = await purgeExpired(purgePool, { ...retention, batch: 1000, maxSteps: 100 });
  assert.ok(result.ran);
  assert.deepEqual([...(await present([ghostKey, poorKey]))], [poorKey]);
  await app.inject(chargeRequest(poor, poorKey));
  assert.deepEqual([...(await present([poorKey]))], [poorKey]);
});

test('the purge deletes exactly the expired records, in small batches, while charges keep flowing', async () => {
  const { app } = await startApp(env);
  const user = await createUser(app, { USD: 100_000 });
  const charge = (key: string) => app.inject(chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, key));
  const expired = Array.from({ length: 25 }, newKey);
  const young = Array.from({ length: 25 }, newKey);
  for (const key of [...expired, ...young]) assert.equal((await charge(key)).statusCode, 200);
  await age(expired, 121);
  await age(young, 119);
  // Charges during the purge: each new record must survive it.
  const flowing = Array.from({ length: 40 }, newKey);
  const [result, responses] = await Promise.all([
    purgeExpired(purgePool, { ...retention, batch: 3, maxSteps: 1000 }),
    Promise.all(flowing.map(charge)),
  ]);
  assert.ok(result.ran && !result.more);
  assert.ok(result.deleted >= expired.length, `deleted ${result.deleted}`);
  for (const r of responses) assert.equal(r.statusCode, 200, r.body);
  assert.equal((await present(expired)).size, 0, 'every expired record is gone');
  assert.equal((await present([...young, ...flowing])).size, young.length + flowing.length, 'no younger one');
  // The floor: a second run finds nothing of ours left to delete.
  await purgeExpired(purgePool, { ...retention, batch: 3, maxSteps: 1000 });
  assert.equal((await present([...young, ...flowing])).size, young.length + flowing.length);
  assert.equal(await balanceMinor(app, user.id), 10_000_000 - 9000);
});

test('a purge racing retries of an expiring key: one new outcome, never two', async () => {
  const { app } = await startApp(env);
  for (let round = 0; round < 5; round++) {
    const user = await createUser(app, { USD: 100 });
    const key = newKey();
    const body = { user_id: user.id, amount: 10, currency: 'USD' };
    const first = await app.inject(chargeRequest(body, key));
    assert.equal(first.statusCode, 200, first.body);
    await age([key], 121);
    const [, ...retries] = await Promise.all([
      purgeExpired(purgePool, { ...retention, batch: 1, maxSteps: 1000 }),
      ...Array.from({ length: 8 }, () => app.inject(chargeRequest(body, key))),
    ]);
    const bodies = new Set(retries.map((r) => r.body));
    for (const r of retries) assert.ok(r.statusCode === 200 || r.statusCode === 409, `${r.statusCode} ${r.body}`);
    const settled = retries.filter((r) => r.statusCode === 200).map((r) => r.json().transaction.id);
    assert.equal(new Set(settled).size, 1, `one outcome: ${[...bodies].join(' | ')}`);
    assert.notEqual(settled[0], first.json().transaction.id);
    assert.equal(await balanceMinor(app, user.id), 8000, 'debited once more, not twice');
  }
});
