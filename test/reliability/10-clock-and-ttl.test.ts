// Scenario 10: the replay window does not depend on caches or clocks. A Redis entry expired early (PEXPIRE 0), an
// app clock ten years ahead, and an idempotency record 29 days old (inside the default 30-day IDEMPOTENCY_RETENTION,
// which PostgreSQL's own clock measures) all still replay from PostgreSQL. Past the retention a key is new again:
// test/db/retention.test.ts.
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import pg from 'pg';
import { REDIS_SKIP } from '../helpers/app.ts';
import { startRedisServer } from '../helpers/processes.ts';
import {
  DATABASE_URL,
  assertConserved,
  assertLedgerInvariants,
  charge,
  createFundedUser,
  newKey,
  startServer,
  summary,
} from './harness.ts';

after(() => assertLedgerInvariants());

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

test(
  'early expiry, a skewed clock and an old record: retries still replay, nothing charged twice',
  { skip: REDIS_SKIP },
  async () => {
    const redis = await startRedisServer();
    const probe = new Redis(redis.url);
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    // No in-process cache: a replay through this server reads Redis, on the connection that wrote the entry.
    const server = await startServer({ REDIS_URL: redis.url, CACHE_TTL: '600', MEMORY_CACHE_ENTRIES: '0' });
    const skewed = await startServer({
      REDIS_URL: redis.url,
      CLOCK_SKEW_MS: String(TEN_YEARS_MS),
      NODE_OPTIONS: `--import ${path.join(import.meta.dirname, 'clock-skew.mjs')}`,
    });
    try {
      const userId = await createFundedUser(server.url, '10.00');
      const key = newKey();
      const first = await charge(server.url, userId, '1.00', key);
      assert.equal(first.status, 200);
      // The cache write is fire-and-forget after the response; a replay read on the same Redis connection comes after it.
      assert.equal((await charge(server.url, userId, '1.00', key)).replayed, true);
      assert.ok((await probe.pttl(`idempotency:shop:${key}`)) > 0, 'cached with a TTL');

      await probe.pexpire(`idempotency:shop:${key}`, 0);
      const afterExpiry = await charge(skewed.url, userId, '1.00', key);
      await db.query("UPDATE idempotency_keys SET created_at = now() - interval '29 days' WHERE key = $1", [key]);
      const oldRecord = await charge(skewed.url, userId, '1.00', key);
      const skewedCharge = await charge(skewed.url, userId, '1.00', newKey());

      summary('10 clock and ttl', {
        expiredEarly: afterExpiry.replayed,
        clockSkewYears: 10,
        recordAgeDays: 29,
        oldRecordReplayed: oldRecord.replayed,
      });
      for (const reply of [afterExpiry, oldRecord]) {
        assert.equal(reply.status, 200);
        assert.equal(reply.replayed, true);
        assert.equal(reply.body, first.body);
      }
      assert.equal(skewedCharge.status, 200, 'a server with a skewed clock still charges');
      const truth = await assertConserved(
        userId,
        1000,
        new Set([key, JSON.parse(skewedCharge.body).transaction.idempotency_key]),
        100,
      );
      assert.equal(truth.balanceMinor, 800);
    } finally {
      probe.disconnect();
      await db.end();
      await Promise.all([server.stop(), skewed.stop()]);
      await redis.kill();
    }
  },
);
