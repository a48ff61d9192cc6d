// Scenario 4: Redis lies — flushed mid-run, garbled entries, and entries copied from another request under a key →
// PicoPay never replays a wrong response (entries are signed over their key name and carry the request fingerprint)
// and never double-charges. Forged entries with a matching fingerprint: test/http/cache-signing.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
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
  startServer,
  summary,
} from './harness.ts';

after(() => assertLedgerInvariants());

test(
  'flushed, garbled and swapped cache entries: every answer is the right one, each key charged once',
  { skip: REDIS_SKIP },
  async () => {
    const redis = await startRedisServer();
    const probe = new Redis(redis.url);
    const server = await startServer({ REDIS_URL: redis.url, MEMORY_CACHE_ENTRIES: '0' });
    try {
      const userId = await createFundedUser(server.url, '1000.00');
      const keys = Array.from({ length: 60 }, newKey);
      const originals = await inParallel(keys.length, 20, (i) => charge(server.url, userId, '1.00', keys[i]!));
      assert.deepEqual(
        countBy(originals, (r) => r.status),
        { 200: keys.length },
      );
      const cacheKey = (k: string): string => `idempotency:shop:${k}`;

      // Lies: a third garbled, a third holding another key's (valid, differently fingerprinted) entry, then a flush of
      // half way through the replays.
      for (let i = 0; i < 20; i++) await probe.set(cacheKey(keys[i]!), '{"fingerprint":"00", "status":200, "body":"{');
      for (let i = 20; i < 40; i++) {
        const other = await probe.get(cacheKey(keys[(i + 1) % keys.length]!));
        if (other !== null) await probe.set(cacheKey(keys[i]!), other);
      }
      // A never-used key pre-loaded with someone else's successful response.
      const fresh = newKey();
      await probe.set(cacheKey(fresh), (await probe.get(cacheKey(keys[59]!)))!);

      const replays = await inParallel(keys.length, 20, async (i) => {
        if (i === 30) await probe.flushall();
        return charge(server.url, userId, '1.00', keys[i]!);
      });
      const freshReply = await charge(server.url, userId, '1.00', fresh);
      const wrong = replays.filter((r, i) => r.body !== originals[i]!.body).length;
      summary('04 redis lies', {
        keys: keys.length,
        garbled: 20,
        swapped: 20,
        flushedMidway: true,
        wrongReplays: wrong,
        freshKeyExecuted: !freshReply.replayed,
      });
      assert.equal(wrong, 0, 'every replay is the stored response of its own key');
      assert.ok(replays.every((r) => r.replayed));
      assert.equal(freshReply.status, 200);
      assert.equal(freshReply.replayed, false, 'a foreign entry under an unused key is not a replay');
      assert.equal(JSON.parse(freshReply.body).transaction.idempotency_key, fresh);
      // Garbled entries are read before the flush (it runs in the second wave): each fails verification, is counted.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const rejectedEntries = [...metrics.matchAll(/^idempotency_cache_rejected_total\{reason="\w+"\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      assert.ok(rejectedEntries >= 1, `rejected cache entries: ${rejectedEntries}`);
      await assertConserved(userId, 100_000, new Set([...keys, fresh]), 100);
    } finally {
      probe.disconnect();
      await server.stop();
      await redis.kill();
    }
  },
);
