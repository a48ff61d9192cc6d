// Redis Cluster: PicoPay with REDIS_CLUSTER_NODES uses ioredis' Cluster client. Replays are served from the cluster
// (keys spread over all three masters); with one master SIGKILLed, charges and replays fall back to PostgreSQL and
// nothing is charged twice.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
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
} from '../reliability/harness.ts';
import { redisClusterSkipReason, startRedisCluster } from './redis-cluster-fixture.ts';

after(() => assertLedgerInvariants());

/** One sample of /metrics, e.g. idempotency_cache_lookups_total{layer="redis",result="hit"}; 0 when absent. */
async function metric(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const found = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return 0;
}

const redisHits = (url: string): Promise<number> =>
  metric(url, 'idempotency_cache_lookups_total', { layer: 'redis', result: 'hit' });

test(
  'Redis Cluster: replays from the cluster; a master SIGKILLed → PostgreSQL fallback, no double charge',
  { skip: redisClusterSkipReason() },
  async () => {
    const cluster = await startRedisCluster();
    // No in-process cache, so every replay asks Redis; the rate limiter on, so its EVAL runs against the cluster too.
    const server = await startServer({
      REDIS_CLUSTER_NODES: cluster.nodes,
      MEMORY_CACHE_ENTRIES: '0',
      RATE_LIMIT_MAX: '100000',
    });
    try {
      // The server listens before the cluster client has loaded the slot map; wait (bounded) for it.
      let redisState = '';
      for (const deadline = Date.now() + 10_000; redisState !== 'up' && Date.now() < deadline;) {
        redisState = (await (await fetch(`${server.url}/ready`)).json()).redis;
        if (redisState !== 'up') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(redisState, 'up', 'the cluster client is ready');
      const userId = await createFundedUser(server.url, '1000.00');
      const originals = new Map<string, string>();
      for (const key of Array.from({ length: 30 }, newKey)) {
        const reply = await charge(server.url, userId, '1.00', key);
        assert.equal(reply.status, 200, reply.body);
        originals.set(key, reply.body);
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // the cache write is fire-and-forget
      const sizes = cluster.ports.map((_, i) => Number(cluster.cli(i, 'dbsize').trim()));
      assert.ok(
        sizes.every((n) => n > 0),
        `entries on every master: ${sizes.join(', ')}`,
      );

      const hitsBefore = await redisHits(server.url);
      for (const [key, body] of originals) {
        const replay = await charge(server.url, userId, '1.00', key);
        assert.equal(replay.status, 200);
        assert.equal(replay.replayed, true);
        assert.equal(replay.body, body, 'a replay is the stored response');
      }
      const hitsAfter = await redisHits(server.url);
      assert.equal(hitsAfter - hitsBefore, originals.size, 'every replay was a Redis Cluster hit');
      assert.equal(
        await metric(server.url, 'redis_errors_total', { operation: 'ratelimit' }),
        0,
        'rate-limit EVAL works on the cluster',
      );

      await cluster.kill(1);
      const succeeded = new Set(originals.keys());
      const earlier = [...originals.keys()];
      const replies = await inParallel(120, 10, async (i) => {
        // Even: a new charge; odd: a replay of a key charged before the kill (a third of them lived on the dead master).
        const replayKey = i % 2 === 1 ? earlier[(i >> 1) % earlier.length]! : undefined;
        const key = replayKey ?? newKey();
        const reply = await charge(server.url, userId, '1.00', key);
        if (replayKey !== undefined) {
          assert.equal(reply.status, 200, reply.body);
          assert.equal(reply.body, originals.get(replayKey), 'a replay after the kill is still the stored response');
          assert.equal(reply.replayed, true);
        } else if (reply.status === 200) {
          succeeded.add(key);
        }
        return reply;
      });
      const errors = await metric(server.url, 'redis_errors_total', { operation: 'get' });
      summary('scale redis cluster', {
        masters: 3,
        killed: 1,
        entriesPerMaster: sizes,
        hitsBeforeKill: hitsAfter - hitsBefore,
        afterKill: countBy(replies, (r) => r.status),
        redisGetErrors: errors,
      });
      assert.deepEqual(
        countBy(replies, (r) => r.status),
        { 200: replies.length },
        'no 5xx, no decline after the kill',
      );
      assert.ok(errors > 0, 'the dead master was noticed (and skipped by the guard)');
      await assertConserved(userId, 100_000, succeeded, 100);
    } finally {
      await server.stop();
      await cluster.stop();
    }
  },
);
