import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { KEYS, REDIS_SKIP, REDIS_URL, startApp } from '../helpers/app.ts';
import { freePort } from '../helpers/processes.ts';

const limited = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
const read = (app: FastifyInstance, key: string = KEYS.checkout) =>
  app.inject({ method: 'GET', url: '/users/8999999999', headers: { 'x-api-key': key } });

async function redisReady(app: FastifyInstance): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await app.inject({ method: 'GET', url: '/ready' })).json().redis === 'up') return;
    await new Promise((r) => setTimeout(r, 10)); // waiting for the client's connection, not for test logic
  }
  throw new Error('Redis did not become ready');
}

describe('rate limiting per API key', () => {
  test('the request past the limit is a 429 problem with Retry-After; other keys and public routes are unaffected', async () => {
    const { app } = await startApp({ ...limited, REDIS_URL: '' });
    for (let i = 0; i < 3; i++) assert.equal((await read(app)).statusCode, 404);
    const over = await read(app);
    assert.equal(over.statusCode, 429);
    assert.match(over.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal(over.json().code, 'rate_limited');
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.equal((await read(app, KEYS.billing)).statusCode, 404, 'another client has its own bucket');
    for (let i = 0; i < 5; i++) assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    const unauthenticated = await read(app, 'not-a-key-at-all-xxxxxxxxxx');
    assert.equal(unauthenticated.statusCode, 401, 'a bad key is a 401, not counted against anyone');
  });

  test('with Redis the limit is shared by every instance', { skip: REDIS_SKIP }, async () => {
    const env = { ...limited, REDIS_URL };
    // This key's bucket starts empty even if an earlier run on the same Redis used it.
    const probe = new Redis(REDIS_URL);
    await probe.del(`ratelimit:${createHash('sha256').update(KEYS.admin).digest('hex').slice(0, 24)}`);
    probe.disconnect();
    const a = (await startApp(env)).app;
    const b = (await startApp(env)).app;
    await Promise.all([redisReady(a), redisReady(b)]);
    const statuses = [];
    for (const app of [a, b, a, b]) statuses.push((await read(app, KEYS.admin)).statusCode);
    assert.deepEqual(statuses, [404, 404, 404, 429]);
  });

  test('with Redis down the limiter counts locally and never fails a request', async () => {
    const { app } = await startApp({ ...limited, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await read(app)).statusCode);
    assert.deepEqual(statuses, [404, 404, 404, 429]);
  });
});
