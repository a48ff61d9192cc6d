// Failed authentications throttled per source address (issue 12): AUTH_FAILURE_LIMIT failures within
// AUTH_FAILURE_WINDOW_MS, then 429 with Retry-After for every request from that address until the window passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { KEYS, REDIS_SKIP, startApp } from '../helpers/app.ts';
import { startRedisServer } from '../helpers/processes.ts';

const get = (app: FastifyInstance, remoteAddress: string, apiKey: string) =>
  app.inject({ method: 'GET', url: '/users/1', remoteAddress, headers: { 'x-api-key': apiKey } });

/** Bounded poll until the app's Redis client is connected (before that it counts locally, by design). */
async function redisUp(app: FastifyInstance): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await app.inject({ method: 'GET', url: '/ready' })).json().redis === 'up') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('Redis did not come up');
}

async function metric(app: FastifyInstance, name: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

test(
  'the 101st failure within the window gets 429 with Retry-After; a fresh address is unaffected',
  { skip: REDIS_SKIP },
  async () => {
    // A Redis of its own: the failure counter lives there, shared by instances, and must not leak into other tests.
    const redis = await startRedisServer();
    try {
      const { app } = await startApp({ REDIS_URL: redis.url, AUTH_FAILURE_LIMIT: '100' });
      await redisUp(app);
      const attacker = '10.20.30.40';
      for (let i = 0; i < 100; i++)
        assert.equal((await get(app, attacker, 'wrong_key_0123456789abcdef')).statusCode, 401);
      const over = await get(app, attacker, 'wrong_key_0123456789abcdef');
      assert.equal(over.statusCode, 429);
      assert.equal(over.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(over.json().code, 'rate_limited');
      const retry = Number(over.headers['retry-after']);
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      const validFromAttacker = await get(app, attacker, KEYS.checkout);
      assert.equal(validFromAttacker.statusCode, 429, 'answered before the key is checked');

      const fresh = '10.20.30.41';
      assert.notEqual((await get(app, fresh, KEYS.checkout)).statusCode, 429);
      assert.equal((await get(app, fresh, 'wrong_key_0123456789abcdef')).statusCode, 401);
      assert.equal(await metric(app, 'auth_failures_total'), 102);
      assert.equal(await metric(app, 'auth_throttled_total'), 2);

      // A second instance shares the count through Redis: its first failure from the address is already over.
      const { app: other } = await startApp({ REDIS_URL: redis.url, AUTH_FAILURE_LIMIT: '100' });
      await redisUp(other);
      assert.equal((await get(other, attacker, 'wrong_key_0123456789abcdef')).statusCode, 429);
    } finally {
      await redis.kill();
    }
  },
);

test(
  'with Redis down the local limit still applies, and the block ends when the window passes',
  { skip: REDIS_SKIP },
  async () => {
    const redis = await startRedisServer();
    const { app } = await startApp({ REDIS_URL: redis.url, AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_MS: '1000' });
    await redis.kill();
    const attacker = '10.20.30.50';
    for (let i = 0; i < 5; i++) assert.equal((await get(app, attacker, 'wrong_key_0123456789abcdef')).statusCode, 401);
    const over = await get(app, attacker, 'wrong_key_0123456789abcdef');
    assert.equal(over.statusCode, 429);
    assert.equal(over.headers['retry-after'], '1');
    // Bounded poll: once the 1 s window has passed, the address is served again.
    const deadline = Date.now() + 5000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await get(app, attacker, KEYS.checkout)).statusCode;
    }
    assert.notEqual(status, 429, 'the block ends with the window');
  },
);

test('AUTH_FAILURE_LIMIT=0 turns the throttle off', async () => {
  const { app } = await startApp({ AUTH_FAILURE_LIMIT: '0' });
  for (let i = 0; i < 120; i++)
    assert.equal((await get(app, '10.20.30.60', 'wrong_key_0123456789abcdef')).statusCode, 401);
});
