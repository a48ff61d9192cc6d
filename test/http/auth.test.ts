import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  KEYS,
  newKey,
  startApp,
} from '../helpers/app.ts';

const logLines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line !== ''),
    );
    done();
  },
});

checkInvariantsAfterFile();
const { app } = await startApp({ LOG_LEVEL: 'info' }, { logStream });
const user = await createUser(app, { USD: 100 });
const usedIdempotencyKeys: string[] = [];
const CLIENT_OF: Record<string, string> = {
  [KEYS.checkout]: 'checkout',
  [KEYS.checkoutRotated]: 'checkout',
  [KEYS.billing]: 'billing',
  [KEYS.admin]: 'ops',
};

/** A charge on `user` with this X-API-Key value (undefined: no header; an array: the header twice). */
function charge(apiKey: string | string[] | undefined, over: Record<string, unknown> = {}): InjectOptions {
  const key = newKey();
  usedIdempotencyKeys.push(key);
  const request = chargeRequest({ user_id: user.id, amount: '0.01', currency: 'USD', ...over }, key);
  const headers: Record<string, string | string[]> = { ...request.headers };
  if (apiKey === undefined) delete headers['x-api-key'];
  else headers['x-api-key'] = apiKey;
  return { ...request, headers };
}

function assertProblem(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  assert.equal(res.json().code, code);
}

describe('401 unauthorized', () => {
  const key = KEYS.checkout;
  const BAD: readonly (readonly [string, string | string[] | undefined])[] = [
    ['no X-API-Key', undefined],
    ['a wrong key', 'ck_wrong_key_zzzzzzzzzzzzzzzzzzz'],
    ['a space prepended', ` ${key}`],
    ['a space appended', `${key} `],
    ['the key in upper case', key.toUpperCase()],
    ["one letter's case changed", `${key.slice(0, -1)}A`],
    ['the key truncated by one character', key.slice(0, -1)],
    ['the header twice', [key, key]],
    ['an empty value', ''],
    ["a revoked client's key", 'ck_revoked_key_eeeeeeeeeeeeeeeee'],
  ];
  let reference: string | undefined;
  for (const [name, apiKey] of BAD) {
    test(`${name} → 401 with the same body and WWW-Authenticate: ApiKey, nothing charged`, async () => {
      const res = await app.inject(charge(apiKey));
      assertProblem(res, 401, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'ApiKey');
      reference ??= res.body;
      assert.equal(res.body, reference);
      assert.equal(await balanceMinor(app, user.id), 10000);
    });
  }

  test('a bad key with malformed JSON and no Idempotency-Key is still 401, on client and admin routes', async () => {
    for (const url of ['/charge', '/users', `/users/${user.id}/credits`]) {
      const headers = { 'x-api-key': 'ck_wrong_key_zzzzzzzzzzzzzzzzzzz', 'content-type': 'application/json' };
      const res = await app.inject({ method: 'POST', url, headers, payload: '{' });
      assertProblem(res, 401, 'unauthorized');
      assert.equal(res.body, reference);
    }
  });
});

describe('403 insufficient_scope and admin rights', () => {
  for (const name of ['checkout', 'checkoutRotated', 'billing'] as const) {
    test(`the ${name} client key on POST /users and POST /users/:id/credits → 403 insufficient_scope, nothing credited`, async () => {
      const headers = { 'x-api-key': KEYS[name], 'content-type': 'application/json', 'idempotency-key': newKey() };
      const created = await app.inject({ method: 'POST', url: '/users', headers, payload: '{"name":"x"}' });
      assertProblem(created, 403, 'insufficient_scope');
      assert.equal(created.json().scope, 'users:write');
      const credit = {
        method: 'POST',
        url: `/users/${user.id}/credits`,
        headers,
        payload: '{"amount":5,"currency":"USD"}',
      } as const;
      const denied = await app.inject(credit);
      assertProblem(denied, 403, 'insufficient_scope');
      assert.match(denied.json().detail, /credits:write/);
      assert.equal(await balanceMinor(app, user.id), 10000);
    });
  }

  test('the admin key may call /charge', async () => {
    const res = await app.inject(charge(KEYS.admin));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(await balanceMinor(app, user.id), 9999);
  });
});

describe('public routes need no key', () => {
  test('GET /health → 200 {"status":"healthy"}', async () => {
    const res = await app.inject('/health');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'healthy' });
  });

  test('GET / → 200 with service, version and docs', async () => {
    const res = await app.inject('/');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.service, 'PicoPay');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(body.docs, '/docs');
  });

  test('GET /ready → 200 with postgres "up"', async () => {
    const res = await app.inject('/ready');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().postgres, 'up');
    assert.equal(res.json().status, 'ready');
  });

  test('GET /metrics → 200 Prometheus text', async () => {
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    assert.match(res.body, /^# HELP charge_requests_total /m);
  });
});

const STATUSES = ['success', 'idempotent_hit', 'insufficient_balance', 'failed'] as const;

async function metricsText(): Promise<string> {
  return (await app.inject('/metrics')).body;
}

/** charge_requests_total by status, parsed from the exposition text. */
async function chargeCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of (await metricsText()).matchAll(/^charge_requests_total\{status="([^"]*)"\} (\S+)$/gm))
    counts[m[1]!] = Number(m[2]);
  assert.deepEqual(Object.keys(counts).sort(), [...STATUSES].sort());
  return counts;
}

/** How each charge_requests_total series moved while `work` ran. */
async function chargeDelta(work: () => Promise<void>): Promise<Record<string, number>> {
  const before = await chargeCounts();
  await work();
  const after = await chargeCounts();
  return Object.fromEntries(STATUSES.map((s) => [s, after[s]! - before[s]!]));
}

const delta = (changes: Partial<Record<(typeof STATUSES)[number], number>>) => ({
  success: 0,
  idempotent_hit: 0,
  insufficient_balance: 0,
  failed: 0,
  ...changes,
});

describe('charge_requests_total counts only authenticated charge requests', () => {
  test('a 401 changes no series', async () => {
    const moved = await chargeDelta(async () => {
      assert.equal((await app.inject(charge('ck_wrong_key_zzzzzzzzzzzzzzzzzzz'))).statusCode, 401);
      assert.equal((await app.inject(charge(undefined))).statusCode, 401);
    });
    assert.deepEqual(moved, delta({}));
  });

  test('a 422 validation failure and a bad Idempotency-Key count as failed', async () => {
    const moved = await chargeDelta(async () => {
      assert.equal((await app.inject(charge(KEYS.checkout, { amount: '1.001' }))).statusCode, 422);
      const request = chargeRequest({ user_id: user.id, amount: 1, currency: 'USD' }, 'café');
      assert.equal((await app.inject(request)).statusCode, 400);
    });
    assert.deepEqual(moved, delta({ failed: 2 }));
  });

  test('a success counts as success and its replay as idempotent_hit', async () => {
    const request = charge(KEYS.billing);
    const moved = await chargeDelta(async () => {
      assert.equal((await app.inject(request)).statusCode, 200);
      const replay = await app.inject(request);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
    });
    assert.deepEqual(moved, delta({ success: 1, idempotent_hit: 1 }));
  });

  test('a decline counts as insufficient_balance', async () => {
    const moved = await chargeDelta(async () => {
      assertProblem(await app.inject(charge(KEYS.checkout, { amount: '1000000' })), 400, 'insufficient_balance');
    });
    assert.deepEqual(moved, delta({ insufficient_balance: 1 }));
  });

  test('no metric label carries an API key, a user id or an Idempotency-Key', async () => {
    const text = await metricsText();
    for (const secret of [...Object.values(KEYS), ...usedIdempotencyKeys]) assert.ok(!text.includes(secret), secret);
    const ours = text.split('\n').filter((l) => /^(charge|credit|idempotency|redis|db_pool)_/.test(l));
    assert.ok(ours.length > 10);
    for (const line of ours) {
      for (const [, name, value] of line.matchAll(/(\w+)="([^"]*)"/g)) {
        if (name === 'le') assert.match(value!, /^(\d+(\.\d+)?|\+Inf)$/, line);
        else assert.match(value!, /^[a-z_]{1,20}$/, line); // an enum word: never an id, a key or a number
      }
    }
  });
});

test('logs never contain an API key, and name the client with its masked key', async () => {
  for (const key of Object.values(KEYS)) {
    assert.equal((await app.inject(charge(key))).statusCode, 200);
    assert.equal((await app.inject(charge(key.slice(0, -1)))).statusCode, 401);
    assert.equal((await app.inject(charge(`${key} `))).statusCode, 401);
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const created = await app.inject({ method: 'POST', url: '/users', headers, payload: '{"name":"log"}' });
    assert.equal(created.statusCode, key === KEYS.admin ? 201 : 403);
  }
  assert.ok(logLines.length > 50, `${logLines.length} log lines`);
  const log = logLines.join('\n');
  for (const [key, client] of Object.entries(CLIENT_OF)) {
    assert.ok(!log.includes(key), 'full key logged');
    const middle = key.slice((key.length - 16) / 2, (key.length + 16) / 2);
    assert.ok(!log.includes(middle), `middle of a key logged: ${middle}`);
    for (let i = 0; i + 9 <= key.length; i++)
      assert.ok(!log.includes(key.slice(i, i + 9)), `key fragment ${key.slice(i, i + 9)} logged`);
    const masked = `${key.slice(0, 4)}…${key.slice(-4)}`;
    const named = logLines.filter((l) => l.includes(masked) && l.includes(`"client":"${client}"`));
    assert.ok(named.length > 0, `no log line names ${client} with ${masked}`);
    assert.ok(
      named.some((l) => l.includes('request completed')),
      'the request-completed line carries the caller',
    );
  }
  // One access line per request: the request, its status and time, and the caller, when it is answered.
  type AccessLine = { msg?: string; client?: string; req?: { method?: string; url?: string }; res?: object };
  const access = logLines.map((l) => JSON.parse(l) as AccessLine).filter((l) => l.msg === 'request completed');
  assert.equal(logLines.filter((l) => l.includes('incoming request')).length, 0, 'no separate incoming-request line');
  const line = access.find((l) => l.client === CLIENT_OF[KEYS.admin] && l.req?.url === '/users');
  assert.ok(line, 'an access line for POST /users by the admin client');
  assert.equal(line.req?.method, 'POST');
  assert.deepEqual(line.res, { statusCode: 201 });
  assert.equal(typeof (line as { responseTime?: unknown }).responseTime, 'number');
});
