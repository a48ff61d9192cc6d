// Scenario 3: Redis SIGKILLed under steady load, then started again → no 5xx, every replay returns the stored
// response (from PostgreSQL while Redis is gone), no double charge; p99 reported before/during/after.
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
  type Reply,
} from './harness.ts';

after(() => assertLedgerInvariants());

const PER_PHASE = 300;

test('Redis killed mid-load: charges and replays keep working from PostgreSQL', { skip: REDIS_SKIP }, async () => {
  let redis = await startRedisServer();
  const server = await startServer({ REDIS_URL: redis.url, MEMORY_CACHE_ENTRIES: '0' });
  try {
    const userId = await createFundedUser(server.url, '100000.00');
    const originals = new Map<string, string>();
    const succeeded = new Set<string>();
    const phase = async (): Promise<Reply[]> => {
      const earlier = [...originals.keys()];
      return inParallel(PER_PHASE, 20, async (i) => {
        // Even requests are new charges; odd ones replay a key from an earlier phase.
        const replayKey = i % 2 === 1 && earlier.length > 0 ? earlier[i % earlier.length]! : undefined;
        const key = replayKey ?? newKey();
        const reply = await charge(server.url, userId, '1.00', key);
        if (replayKey !== undefined) {
          assert.equal(reply.status, 200);
          assert.equal(reply.body, originals.get(replayKey), 'a replay is the stored response');
          assert.equal(reply.replayed, true);
        } else if (reply.status === 200) {
          originals.set(key, reply.body);
          succeeded.add(key);
        }
        return reply;
      });
    };
    const before = await phase();
    await redis.kill();
    const during = await phase();
    redis = await startRedisServer(redis.port);
    const afterRestart = await phase();
    const all = [...before, ...during, ...afterRestart];
    const p99 = (r: Reply[]): number =>
      Math.round(
        percentile(
          r.map((x) => x.ms),
          99,
        ),
      );
    summary('03 redis killed', {
      requests: all.length,
      byStatus: countBy(all, (r) => r.status),
      newCharges: succeeded.size,
      p99msBefore: p99(before),
      p99msDuring: p99(during),
      p99msAfter: p99(afterRestart),
    });
    assert.deepEqual(
      countBy(all, (r) => r.status),
      { 200: all.length },
      'no 5xx, no decline',
    );
    await assertConserved(userId, 10_000_000, succeeded, 100);
  } finally {
    await server.stop();
    await redis.kill();
  }
});
