// Scenario 9: Redis slow (a proxy adding 2 s to every packet) → requests are not held beyond the Redis command
// timeout: they complete from PostgreSQL, replays included.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIS_SKIP } from '../helpers/app.ts';
import { startRedisServer } from '../helpers/processes.ts';
import {
  assertConserved,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  newKey,
  percentile,
  startServer,
  summary,
} from './harness.ts';
import { startTcpProxy } from './tcp-proxy.ts';

after(() => assertLedgerInvariants());

const INJECTED_MS = 2000;

test(
  'Redis 2 s slow: charges and replays complete well inside the injected latency',
  { skip: REDIS_SKIP },
  async () => {
    const redis = await startRedisServer();
    const proxy = await startTcpProxy('127.0.0.1', redis.port);
    const server = await startServer({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, MEMORY_CACHE_ENTRIES: '0' });
    try {
      const userId = await createFundedUser(server.url, '1000.00');
      const warm = newKey();
      const warmed = await charge(server.url, userId, '1.00', warm); // connected to Redis and cached through it
      assert.equal(warmed.status, 200);
      proxy.setLatency(INJECTED_MS);
      const keys = Array.from({ length: 100 }, newKey);
      const replies = await inParallel(200, 20, (i) =>
        charge(server.url, userId, '1.00', i < 100 ? keys[i]! : keys[i - 100]!),
      );
      const replay = await charge(server.url, userId, '1.00', warm);
      const slowest = Math.max(...replies.map((r) => r.ms), replay.ms);
      summary('09 redis slow', {
        injectedMs: INJECTED_MS,
        requests: replies.length + 1,
        byStatus: countBy(replies, (r) => r.status),
        p99ms: Math.round(
          percentile(
            replies.map((r) => r.ms),
            99,
          ),
        ),
        slowestMs: Math.round(slowest),
      });
      assert.deepEqual(
        countBy(replies, (r) => r.status),
        { 200: 200 },
      );
      assert.equal(replay.body, warmed.body);
      // A request that waited for Redis would take at least one injected delay each way (2 × INJECTED_MS).
      assert.ok(slowest < INJECTED_MS, `no request waited on Redis (slowest ${Math.round(slowest)} ms)`);
      await assertConserved(userId, 100_000, new Set([warm, ...keys]), 100);
    } finally {
      await server.stop();
      await proxy.close();
      await redis.kill();
    }
  },
);
