// The charge hot path is one database round trip: one query per new charge and per database replay, none for a
// cache replay. Counted at the pool the service is given (a real pool; the count wraps it, nothing is faked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { createPool, type Db } from '../../src/db/pool.ts';
import { createCacheSigner } from '../../src/idempotency/cache-signature.ts';
import { DEFAULT_RETENTION } from '../../src/idempotency/retention.ts';
import { createResponseCache } from '../../src/idempotency/response-cache.ts';
import { createRedisGuard } from '../../src/plugins/external/redis-guard.ts';
import { CLIENT_SCOPES } from '../../src/auth/scopes.ts';
import { createChargeBatcher } from '../../src/payments/batcher.ts';
import { createPaymentService } from '../../src/payments/service.ts';
import { createHoldService } from '../../src/holds/service.ts';
import { checkInvariantsAfterFile, createUser, DATABASE_URL, newKey, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();

function countingPool(): { db: Db; queries: () => number; end: () => Promise<void> } {
  const pool = createPool(loadConfig({}), DATABASE_URL);
  let count = 0;
  const query = pool.query.bind(pool);
  const db = Object.assign(Object.create(pool) as Db, {
    query: ((...args: Parameters<typeof query>) => {
      count++;
      return query(...args);
    }) as typeof query,
  });
  return { db, queries: () => count, end: () => pool.end() };
}

const caller = { client: 'round-trips', scopes: new Set(CLIENT_SCOPES), maskedKey: '****' };
const noEvents = { lookup: () => {}, rejected: () => {} };
const signer = createCacheSigner(['round-trips-test-signing-key-0123456789']);
const noRedis = createRedisGuard(undefined, () => {});

test('a new charge, a decline and a database replay each take exactly one query; a cache replay takes none', async () => {
  const { app } = await startApp();
  const user = await createUser(app, { USD: 10 });
  const { db, queries, end } = countingPool();
  try {
    const request = {
      userId: BigInt(user.id),
      currency: 'USD',
      exponent: 2,
      amountMinor: 100n,
      description: null,
      metadata: {},
    };
    const withCache = createPaymentService({
      db,
      cache: createResponseCache({ redis: noRedis, signer, ttlSeconds: 60, memoryEntries: 100, events: noEvents }),
    });
    const noCache = createPaymentService({
      db,
      cache: createResponseCache({ redis: noRedis, signer, ttlSeconds: 60, memoryEntries: 0, events: noEvents }),
    });
    const key = newKey();

    const created = await withCache.charge(caller, key, request);
    assert.ok(created.ok && !created.replayed && created.status === 200);
    assert.equal(queries(), 1, 'new charge');

    const fromCache = await withCache.charge(caller, key, request);
    assert.ok(fromCache.ok && fromCache.replayed);
    assert.equal(queries(), 1, 'cache replay');

    const fromDb = await noCache.charge(caller, key, request);
    assert.ok(fromDb.ok && fromDb.replayed);
    assert.equal(queries(), 2, 'database replay');

    const declined = await noCache.charge(caller, newKey(), { ...request, amountMinor: 10_000n });
    assert.ok(declined.ok && declined.status === 400);
    assert.equal(queries(), 3, 'decline');
  } finally {
    await end();
  }
});

test('a new refund, a refund decline and a database replay each take exactly one query', async () => {
  const { app } = await startApp();
  const user = await createUser(app, { USD: 10 });
  const { db, queries, end } = countingPool();
  try {
    const noCache = createPaymentService({
      db,
      cache: createResponseCache({ redis: noRedis, signer, ttlSeconds: 60, memoryEntries: 0, events: noEvents }),
    });
    const charged = await noCache.charge(caller, newKey(), {
      userId: BigInt(user.id),
      currency: 'USD',
      exponent: 2,
      amountMinor: 500n,
      description: null,
      metadata: {},
    });
    assert.ok(charged.ok && charged.status === 200);
    const chargeId = BigInt(JSON.parse(charged.body).transaction.id);
    const start = queries();
    const key = newKey();
    const whole = { chargeId, amount: null, reason: null };

    const created = await noCache.refund(caller, key, whole);
    assert.ok(created.ok && !created.replayed && created.status === 200, created.ok ? created.body : created.code);
    assert.equal(queries() - start, 1, 'new refund');

    const fromDb = await noCache.refund(caller, key, whole);
    assert.ok(fromDb.ok && fromDb.replayed);
    assert.equal(queries() - start, 2, 'database replay');

    const declined = await noCache.refund(caller, newKey(), whole);
    assert.ok(declined.ok && declined.code === 'charge_not_refundable');
    assert.equal(queries() - start, 3, 'decline');
  } finally {
    await end();
  }
});

test('with group commit (the default path): a lone charge is one query, and charges waiting together share one', async () => {
  const { app } = await startApp();
  const users = await Promise.all([
    createUser(app, { USD: 10 }),
    createUser(app, { USD: 10 }),
    createUser(app, { USD: 10 }),
  ]);
  const { db, queries, end } = countingPool();
  try {
    const sizes: number[] = [];
    const batcher = createChargeBatcher(
      db,
      { maxSize: 50, maxWaitMs: 60_000, maxInFlight: 1 },
      {
        batch: (n) => sizes.push(n),
        retry: () => {},
      },
    );
    const cache = createResponseCache({ redis: noRedis, signer, ttlSeconds: 60, memoryEntries: 0, events: noEvents });
    const payments = createPaymentService({ db, cache, batcher });
    const request = (userId: number) => ({
      userId: BigInt(userId),
      currency: 'USD',
      exponent: 2,
      amountMinor: 100n,
      description: null,
      metadata: {},
    });
    const lone = await payments.charge(caller, newKey(), request(users[0].id));
    assert.ok(lone.ok && lone.status === 200 && !lone.replayed);
    assert.equal(queries(), 1, 'a lone charge: one query');
    // The first occupies the only in-flight slot; the three behind it wait and go together when it ends.
    const results = await Promise.all(
      [users[0], ...users].map((u) => payments.charge(caller, newKey(), request(u.id))),
    );
    assert.ok(results.every((r) => r.ok && r.status === 200));
    assert.deepEqual(sizes, [1, 1, 3]);
    assert.equal(queries(), 3, 'four more charges: two queries (the lead, then one batch of three)');
  } finally {
    await end();
  }
});

test('authorize, capture and void each take exactly one query; their replays from the cache none', async () => {
  const { app } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '0' });
  const user = await createUser(app, { USD: 10 });
  const { db, queries, end } = countingPool();
  try {
    const holds = createHoldService(
      db,
      createResponseCache({ redis: noRedis, signer, ttlSeconds: 60, memoryEntries: 100, events: noEvents }),
      DEFAULT_RETENTION,
    );
    const request = {
      userId: BigInt(user.id),
      currency: 'USD',
      exponent: 2,
      amountMinor: 100n,
      description: null,
      metadata: {},
      expiresInSeconds: 60,
    };
    const key = newKey();
    const held = await holds.authorize(caller, key, request);
    assert.ok(held.ok && held.status === 201, JSON.stringify(held));
    assert.equal(queries(), 1, 'authorize');
    const again = await holds.authorize(caller, key, request);
    assert.ok(again.ok && again.replayed);
    assert.equal(queries(), 1, 'cache replay');
    const id = BigInt((JSON.parse(held.body) as { id: number }).id);
    const captured = await holds.capture(caller, newKey(), id, null);
    assert.ok(captured.ok && captured.status === 200, JSON.stringify(captured));
    assert.equal(queries(), 2, 'capture');
    const voided = await holds.void(caller, newKey(), id);
    assert.ok(voided.ok && voided.status === 409);
    assert.equal(queries(), 3, 'a declined void');
  } finally {
    await end();
  }
});
