// Signed cache entries (issue 12): whoever can write to Redis cannot make PicoPay replay a response it never gave.
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createCacheSigner } from '../../src/idempotency/cache-signature.ts';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  newKey,
  REDIS_SKIP,
  REDIS_URL,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();

const OLD_KEY = 'old_cache_signing_key_0123456789abcdef';
const NEW_KEY = 'new_cache_signing_key_0123456789abcdef';
const WRONG_KEY = 'wrong_cache_signing_key_0123456789abcd';

async function metric(app: FastifyInstance, line: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

const rejected = (reason: string): string => `idempotency_cache_rejected_total{reason="${reason}"}`;
const REDIS_HIT = 'idempotency_cache_lookups_total{layer="redis",result="hit"}';
const name = (key: string): string => `idempotency:checkout:${key}`;

/** Polls Redis (bounded) for the entry the app writes after commit without waiting for it. */
async function entryOf(probe: Redis, key: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const raw = await probe.get(name(key));
    if (raw !== null) return raw;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`no Redis entry for ${key}`);
}

/** A forged payload for `key`: a genuine entry's fingerprint and success body, renamed to `key`. */
function forgedPayload(genuine: string, key: string): string {
  const payload = JSON.parse(genuine.replace(/^v1\.[0-9a-f]{64}\./, '')) as Record<string, unknown>;
  return JSON.stringify({ ...payload, key });
}

describe('signed Redis cache entries', { skip: REDIS_SKIP }, () => {
  test('forged entries (unsigned, wrong key) and a moved entry are never replayed: the charge really runs', async () => {
    const logs = new PassThrough();
    let logged = '';
    logs.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    const { app } = await startApp(
      { REDIS_URL, MEMORY_CACHE_ENTRIES: '0', CACHE_SIGNING_KEY: NEW_KEY, LOG_LEVEL: 'info' },
      { logStream: logs },
    );
    const probe = new Redis(REDIS_URL);
    try {
      const user = await createUser(app, { USD: 10 });
      const body = { user_id: user.id, amount: 1, currency: 'USD' };
      const genuineKey = newKey();
      assert.equal((await app.inject(chargeRequest(body, genuineKey))).statusCode, 200);
      const genuine = await entryOf(probe, genuineKey);
      assert.match(genuine, /^v1\.[0-9a-f]{64}\./, 'entries are stored signed');

      const unsigned = newKey();
      const wrongKey = newKey();
      const moved = newKey();
      await probe.set(name(unsigned), forgedPayload(genuine, unsigned), 'EX', 60);
      const wrong = createCacheSigner([WRONG_KEY]);
      await probe.set(name(wrongKey), wrong.sign(name(wrongKey), forgedPayload(genuine, wrongKey)), 'EX', 60);
      await probe.set(name(moved), genuine, 'EX', 60);
      const before = {
        malformed: await metric(app, rejected('malformed')),
        bad: await metric(app, rejected('bad_signature')),
      };

      for (const key of [unsigned, wrongKey, moved]) {
        const res = await app.inject(chargeRequest(body, key));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['idempotent-replayed'], undefined, 'not a replay');
        assert.equal(res.json().transaction.idempotency_key, key, 'the real transaction of this key');
      }
      assert.equal(await balanceMinor(app, user.id), 600, 'four real debits of 1.00');
      assert.equal(await metric(app, rejected('malformed')), before.malformed + 1);
      assert.equal(await metric(app, rejected('bad_signature')), before.bad + 2);
      assert.match(logged, /cache_entry_rejected/);
      assert.equal(logged.match(/cache_entry_rejected/g)?.length, 1, 'logged at most once a minute');
      assert.ok(!logged.includes(NEW_KEY), 'the signing key is never logged');
      assert.ok(!(await app.inject({ method: 'GET', url: '/metrics' })).body.includes(NEW_KEY));
    } finally {
      probe.disconnect();
    }
  });

  test('rotation: an entry signed with the old key verifies while the old key is listed second', async () => {
    const { app: oldApp } = await startApp({ REDIS_URL, MEMORY_CACHE_ENTRIES: '0', CACHE_SIGNING_KEY: OLD_KEY });
    const { app: rotated } = await startApp({
      REDIS_URL,
      MEMORY_CACHE_ENTRIES: '0',
      CACHE_SIGNING_KEY: `${NEW_KEY},${OLD_KEY}`,
    });
    const { app: newOnly } = await startApp({ REDIS_URL, MEMORY_CACHE_ENTRIES: '0', CACHE_SIGNING_KEY: NEW_KEY });
    const probe = new Redis(REDIS_URL);
    try {
      const user = await createUser(oldApp, { USD: 10 });
      const body = { user_id: user.id, amount: 1, currency: 'USD' };
      const key = newKey();
      const first = await oldApp.inject(chargeRequest(body, key));
      assert.equal(first.statusCode, 200);
      await entryOf(probe, key);

      const hits = await metric(rotated, REDIS_HIT);
      const replay = await rotated.inject(chargeRequest(body, key));
      assert.equal(replay.body, first.body);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(await metric(rotated, REDIS_HIT), hits + 1, 'served from Redis: the old key still verifies');

      const bad = await metric(newOnly, rejected('bad_signature'));
      const fromDb = await newOnly.inject(chargeRequest(body, key));
      assert.equal(fromDb.body, first.body, 'once the old key is dropped, the replay comes from PostgreSQL');
      assert.equal(await metric(newOnly, rejected('bad_signature')), bad + 1);
      assert.equal(await balanceMinor(oldApp, user.id), 900, 'charged once');
    } finally {
      probe.disconnect();
    }
  });
});
