// Group commit (issue: micro-batched charges): many charges in one transaction must give every caller exactly the
// outcome a lone charge would, in arrival order, and concurrent batches must never deadlock.
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createPool } from '../../src/db/pool.ts';
import { createChargeBatcher } from '../../src/payments/batcher.ts';
import type { MoneyCall } from '../../src/payments/types.ts';
import { balanceMinor, checkInvariantsAfterFile, createUser, DATABASE_URL, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();

const { app } = await startApp();

function call(userId: number, amountMinor: bigint, key: string = randomUUID(), currency = 'USD'): MoneyCall {
  const fingerprint = createHash('sha256').update(`${userId}|${amountMinor}|${currency}`).digest();
  return {
    client: 'batching',
    key,
    fingerprint,
    userId: BigInt(userId),
    currency,
    exponent: 2,
    amountMinor,
    description: null,
    metadata: {},
  };
}

function batcher(
  maxInFlight: number,
  sizes: number[],
  retries: number[],
  env: Record<string, string> = {},
  maxWaitMs = 50,
) {
  const db = createPool(loadConfig({ DB_POOL_SIZE: '8', ...env }), DATABASE_URL);
  const events = { batch: (n: number) => sizes.push(n), retry: (n: number) => retries.push(n) };
  return { db, batcher: createChargeBatcher(db, { maxSize: 50, maxWaitMs, maxInFlight }, events) };
}

test('one batch, every kind of item: each gets the outcome a lone charge would, in arrival order', async () => {
  const rich = await createUser(app, { USD: 10 });
  const poor = await createUser(app, { USD: 1 });
  const sizes: number[] = [];
  // A wait far longer than the lead takes, so the waiting charges go when the lead's batch ends (not when a timer
  // fires while the lead is still running on a slow machine, which would split them by account).
  const { db, batcher: b } = batcher(1, sizes, [], {}, 60_000);
  try {
    const first = call(rich.id, 100n);
    // The first charge goes out alone and occupies the only in-flight slot; the rest wait and form one batch.
    const lead = b.charge(call(rich.id, 1n));
    const reused = { ...call(rich.id, 999n, first.key) };
    const items = [
      first, // created
      { ...first }, // the same key again inside the batch: replayed
      reused, // same key, other payload: key_reused
      call(poor.id, 500n), // declined: insufficient_balance
      call(poor.id, 100n), // created: exactly the balance
      call(8_999_999_999, 1n), // declined: user_not_found
      call(rich.id, 1n, randomUUID(), 'EUR'), // declined: currency_not_supported
    ];
    const results = await Promise.all([lead, ...items.map((c) => b.charge(c))]);
    assert.deepEqual(sizes, [1, items.length], 'the lead alone, then one batch of all the waiting charges');
    assert.deepEqual(
      results.slice(1).map((r) => `${r.outcome}:${r.code ?? r.status}`),
      [
        'created:200',
        'replayed:200',
        'key_reused:null',
        'declined:insufficient_balance',
        'created:200',
        'declined:user_not_found',
        'declined:currency_not_supported',
      ],
    );
    assert.equal(results[2]!.body, results[1]!.body, 'the in-batch replay is byte-identical');
    assert.equal(await balanceMinor(app, rich.id), 1000 - 1 - 100);
    assert.equal(await balanceMinor(app, poor.id), 0);
  } finally {
    await db.end();
  }
});

test('concurrent batches from two instances over the same accounts in opposite orders never deadlock', async () => {
  const a = await createUser(app, { USD: 1000 });
  const c = await createUser(app, { USD: 1000 });
  const sizes: number[] = [];
  const retries: number[] = [];
  // One batcher never runs two batches on one account at once, so two batchers (two instances) make the overlap.
  const one = batcher(4, sizes, retries);
  const two = batcher(4, sizes, retries);
  try {
    const calls = Array.from({ length: 400 }, (_, i) => call(i % 2 === 0 ? a.id : c.id, 10n));
    // Every other block of 25 reversed and sent by the other instance, so batches meet the accounts in opposite orders.
    const results = await Promise.all(
      Array.from({ length: calls.length / 25 }, (_, block) => {
        const part = calls.slice(block * 25, block * 25 + 25);
        const [order, via] = block % 2 === 0 ? [part, one.batcher] : [part.reverse(), two.batcher];
        return order.map((x) => via.charge(x));
      }).flat(),
    );
    assert.deepEqual([...new Set(results.map((r) => r.outcome))], ['created']);
    assert.ok(
      sizes.some((n) => n > 1),
      'charges were batched',
    );
    assert.deepEqual(retries, [], 'no batch hit a deadlock');
    assert.equal(await balanceMinor(app, a.id), 100_000 - 200 * 10);
    assert.equal(await balanceMinor(app, c.id), 100_000 - 200 * 10);
  } finally {
    await Promise.all([one.db.end(), two.db.end()]);
  }
});

test('charges on an account in a running batch wait for it and then go together; other accounts go at once', async () => {
  const hot = await createUser(app, { USD: 1000 });
  const others = await Promise.all([createUser(app, { USD: 10 }), createUser(app, { USD: 10 })]);
  const sizes: number[] = [];
  const { db, batcher: b } = batcher(4, sizes, []);
  try {
    const lead = b.charge(call(hot.id, 1n));
    const queued = Array.from({ length: 5 }, () => b.charge(call(hot.id, 1n)));
    const elsewhere = others.map((u) => b.charge(call(u.id, 1n)));
    const results = await Promise.all([lead, ...queued, ...elsewhere]);
    assert.deepEqual([...new Set(results.map((r) => r.outcome))], ['created']);
    assert.deepEqual(
      sizes,
      [1, 1, 1, 5],
      "the lead, the two other accounts at once, then the hot account's five together",
    );
    assert.equal(await balanceMinor(app, hot.id), 100_000 - 6);
  } finally {
    await db.end();
  }
});

test('a key held by another unfinished transaction fails only its own item; the batch around it commits', async () => {
  const user = await createUser(app, { USD: 10 });
  const held = call(user.id, 1n);
  const side = new pg.Client({ connectionString: DATABASE_URL });
  await side.connect();
  await side.query('BEGIN');
  // Another instance's claim on the key, not yet committed: the batch's one-statement claim waits, times out, and
  // the items claim one by one.
  await side.query(
    "INSERT INTO idempotency_keys (client, key, operation, fingerprint) VALUES ('batching', $1, 'charge', '\\x00')",
    [held.key],
  );
  const sizes: number[] = [];
  const { db, batcher: b } = batcher(1, sizes, [], { DB_LOCK_TIMEOUT_MS: '200' });
  try {
    const lead = b.charge(call(user.id, 1n));
    const results = await Promise.all([lead, ...[call(user.id, 2n), held, call(user.id, 3n)].map((c) => b.charge(c))]);
    assert.deepEqual(sizes, [1, 3]);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['created', 'created', 'key_in_use', 'created'],
    );
    assert.equal(await balanceMinor(app, user.id), 1000 - 1 - 2 - 3);
  } finally {
    await side.query('ROLLBACK');
    await side.end();
    await db.end();
  }
});
