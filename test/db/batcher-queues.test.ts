// Issue 13: the batcher's cost per arrival does not grow with the queue (per-account FIFOs), its queues are bounded,
// and a charge whose deadline passed while it waited is dropped unsent. Real PostgreSQL: the charge in flight is
// held on its account's row lock by a separate connection, so everything behind it really waits.
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createPool } from '../../src/db/pool.ts';
import { ProblemError } from '../../src/lib/errors.ts';
import { createChargeBatcher, type BatchSettings, type ChargeBatcher } from '../../src/payments/batcher.ts';
import type { MoneyCall } from '../../src/payments/types.ts';
import { balanceMinor, checkInvariantsAfterFile, createUser, DATABASE_URL, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();

const { app } = await startApp();
const db = sql();

function call(client: string, userId: number, amountMinor = 1n): MoneyCall {
  const key = randomUUID();
  return {
    client,
    key,
    fingerprint: createHash('sha256').update(`${userId}|${amountMinor}|${key}`).digest(),
    userId: BigInt(userId),
    currency: 'USD',
    exponent: 2,
    amountMinor,
    description: null,
    metadata: {},
  };
}

/** Holds the user's account row locked (another transaction's FOR UPDATE) until release() is called. */
async function holdAccount(userId: number): Promise<{ release(): Promise<void> }> {
  const side = new pg.Client({ connectionString: DATABASE_URL });
  await side.connect();
  await side.query('BEGIN');
  await side.query('SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE', [userId]);
  return {
    async release() {
      await side.query('ROLLBACK');
      await side.end();
    },
  };
}

function newBatcher(settings: Partial<BatchSettings>, shed: string[] = []) {
  const pool = createPool(
    loadConfig({ DB_POOL_SIZE: '4', DB_LOCK_TIMEOUT_MS: '60000', DB_STATEMENT_TIMEOUT_MS: '60000' }),
    DATABASE_URL,
  );
  const events = { batch: () => {}, retry: () => {}, shed: () => shed.push('queue') };
  const batcher = createChargeBatcher(pool, { maxSize: 50, maxWaitMs: 60_000, maxInFlight: 2, ...settings }, events);
  return { pool, batcher };
}

/** Queue entries the batcher touched for one arrival (and the batch it may start). */
function costOf(batcher: ChargeBatcher, arrive: () => void): number {
  const before = batcher.stats().examined;
  arrive();
  return batcher.stats().examined - before;
}

const keysOf = async (client: string): Promise<number> =>
  Number((await db.query('SELECT count(*) AS n FROM idempotency_keys WHERE client = $1', [client])).rows[0].n);

test('an arrival costs the same with 50 or 50,000 charges waiting; expired waiting charges are never sent', async () => {
  const client = `queues-${randomUUID()}`;
  const hot = await createUser(app, { USD: 1000 });
  const free = await createUser(app, { USD: 1000 });
  const { pool, batcher } = newBatcher({ maxQueuedPerAccount: 100_000, maxQueued: 100_000 });
  const lock = await holdAccount(hot.id);
  try {
    const lead = batcher.charge(call(client, hot.id));
    // Everything behind the lead expires at once: dropped unsent when the lead's batch ends.
    const expired: Promise<unknown>[] = [];
    const queue = (n: number) => {
      for (let i = 0; i < n; i++) expired.push(batcher.charge(call(client, hot.id), 0).catch((e: unknown) => e));
    };
    const measure = async () => {
      const onHot = costOf(batcher, () => queue(1));
      let freeCharge: Promise<unknown> = Promise.resolve();
      const onFree = costOf(batcher, () => (freeCharge = batcher.charge(call(client, free.id))));
      assert.equal((await freeCharge.then((r) => r as { outcome: string })).outcome, 'created');
      return { onHot, onFree };
    };
    queue(49);
    assert.equal(batcher.stats().waiting, 49);
    const small = await measure();
    queue(50_000 - batcher.stats().waiting);
    assert.equal(batcher.stats().waiting, 50_000);
    const large = await measure();
    assert.deepEqual(large, small, 'the same work per arrival at 50,000 waiting as at 50');
    assert.ok(small.onHot <= 1 && small.onFree <= 3, `O(1) per arrival: ${JSON.stringify(small)}`);

    await lock.release();
    assert.equal((await lead).outcome, 'created');
    const outcomes = await Promise.all(expired);
    assert.equal(outcomes.length, 50_001);
    for (const error of outcomes) {
      assert.ok(error instanceof ProblemError && error.code === 'overloaded', String(error));
    }
    assert.equal(batcher.stats().waiting, 0);
    assert.equal(await keysOf(client), 3, 'the lead and the two free-account charges; no expired charge was written');
    assert.equal(await balanceMinor(app, hot.id), 100_000 - 1);
  } finally {
    await pool.end();
  }
});

test('past MAX_QUEUED_CHARGES_PER_ACCOUNT a charge is refused at once (overloaded); other accounts still queue', async () => {
  const client = `queues-${randomUUID()}`;
  const hot = await createUser(app, { USD: 1000 });
  const other = await createUser(app, { USD: 1000 });
  const shed: string[] = [];
  const { pool, batcher } = newBatcher({ maxQueuedPerAccount: 3, maxInFlight: 1 }, shed);
  const lock = await holdAccount(hot.id);
  try {
    const lead = batcher.charge(call(client, hot.id));
    const queued = [1, 2, 3].map(() => batcher.charge(call(client, hot.id)));
    const refused = await batcher.charge(call(client, hot.id)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof ProblemError && refused.code === 'overloaded', String(refused));
    assert.deepEqual(shed, ['queue']);
    const elsewhere = batcher.charge(call(client, other.id));
    assert.equal(batcher.stats().waiting, 4, 'three on the hot account, one on the other');
    await lock.release();
    const results = await Promise.all([lead, ...queued, elsewhere]);
    assert.deepEqual([...new Set(results.map((r) => r.outcome))], ['created']);
    assert.equal(await keysOf(client), 5, 'nothing written for the refused charge');
    assert.equal(await balanceMinor(app, hot.id), 100_000 - 4);
  } finally {
    await pool.end();
  }
});
