import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  newKey,
  REDIS_SKIP,
  startApp,
} from '../helpers/app.ts';
import { freePort, startRedisServer } from '../helpers/processes.ts';

checkInvariantsAfterFile();

async function metric(app: FastifyInstance, line: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

const REDIS_HIT = 'idempotency_cache_lookups_total{layer="redis",result="hit"}';

describe('Redis unreachable (dead port)', () => {
  test('charges succeed and replays are served from PostgreSQL; readiness stays green', async () => {
    // No in-process cache either: every replay must come from PostgreSQL.
    const { app } = await startApp({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, MEMORY_CACHE_ENTRIES: '0' });
    const user = await createUser(app, { USD: 10 });
    const key = newKey();
    const body = { user_id: user.id, amount: 1, currency: 'USD' };
    const first = await app.inject(chargeRequest(body, key));
    assert.equal(first.statusCode, 200);
    const replay = await app.inject(chargeRequest(body, key));
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, first.body);
    assert.equal(await balanceMinor(app, user.id), 900);
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', postgres: 'up', redis: 'down', replica: 'disabled' });
  });
});

describe('Redis killed and restarted', { skip: REDIS_SKIP }, () => {
  test('replays use Redis while it lives, PostgreSQL after SIGKILL, and nothing is charged twice', async () => {
    const redis = await startRedisServer();
    try {
      const { app } = await startApp({ REDIS_URL: redis.url, MEMORY_CACHE_ENTRIES: '0', CACHE_TTL: '600' });
      const user = await createUser(app, { USD: 10 });
      const body = { user_id: user.id, amount: 1, currency: 'USD' };
      await app.inject({ method: 'GET', url: '/ready' });
      const keyA = newKey();
      const first = await app.inject(chargeRequest(body, keyA));
      assert.equal(first.statusCode, 200);
      const hitsBefore = await metric(app, REDIS_HIT);
      const cached = await app.inject(chargeRequest(body, keyA));
      assert.equal(cached.body, first.body);
      assert.equal(await metric(app, REDIS_HIT), hitsBefore + 1, 'the replay came from Redis');

      const probe = new Redis(redis.url);
      const ttl = await probe.ttl(`idempotency:checkout:${keyA}`);
      probe.disconnect();
      assert.ok(ttl > 0 && ttl <= 600, `TTL ${ttl} follows CACHE_TTL`);

      await redis.kill();
      const afterKill = await app.inject(chargeRequest(body, keyA));
      assert.equal(afterKill.statusCode, 200);
      assert.equal(afterKill.body, first.body);
      const keyB = newKey();
      const fresh = await app.inject(chargeRequest(body, keyB));
      assert.equal(fresh.statusCode, 200);
      const freshReplay = await app.inject(chargeRequest(body, keyB));
      assert.equal(freshReplay.body, fresh.body);
      assert.equal((await app.inject({ method: 'GET', url: '/ready' })).json().redis, 'down');
      assert.equal(await balanceMinor(app, user.id), 800);
    } finally {
      await redis.kill();
    }
  });
});

describe('Redis holding wrong entries', { skip: REDIS_SKIP }, () => {
  test('a garbled or foreign entry under a key is never replayed; PostgreSQL decides', async () => {
    const redis = await startRedisServer();
    const probe = new Redis(redis.url);
    try {
      const { app } = await startApp({ REDIS_URL: redis.url, MEMORY_CACHE_ENTRIES: '0' });
      const user = await createUser(app, { USD: 10 });
      const body = { user_id: user.id, amount: 1, currency: 'USD' };
      const garbled = newKey();
      await probe.set(`idempotency:checkout:${garbled}`, '{"fingerprint":"zz","status":200,"body":');
      const foreign = newKey();
      await probe.set(
        `idempotency:checkout:${foreign}`,
        JSON.stringify({ fingerprint: 'a'.repeat(64), status: 200, code: null, body: '{"message":"forged"}' }),
      );
      for (const key of [garbled, foreign]) {
        const res = await app.inject(chargeRequest(body, key));
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['idempotent-replayed'], undefined, 'executed, not replayed from the bad entry');
        assert.equal(res.json().transaction.idempotency_key, key);
      }
      assert.equal(await balanceMinor(app, user.id), 800);
      const replay = await app.inject(chargeRequest(body, foreign));
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(replay.json().transaction.idempotency_key, foreign);
    } finally {
      probe.disconnect();
      await redis.kill();
    }
  });
});
