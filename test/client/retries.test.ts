// The client against the real server over real HTTP: lost replies, held keys and final declines.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  PicoPay,
  PicoPayApiError,
  PicoPayConnectionError,
  type FetchLike,
  type RetryInfo,
} from '../../packages/client/src/index.ts';
import { checkInvariantsAfterFile, DATABASE_URL, KEYS, newKey, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
// A short lock wait, so a held key answers 409 quickly.
const { url } = await startApp({ DB_LOCK_TIMEOUT_MS: '200' }, { listen: true });
const admin = new PicoPay({ baseUrl: url, apiKey: KEYS.admin });

/** A fetch that records every attempt's Idempotency-Key before handing it to the real fetch. */
function recording(): { fetch: FetchLike; keys: (string | null)[] } {
  const keys: (string | null)[] = [];
  const recorder: FetchLike = (input, init) => {
    keys.push(new Headers(init.headers).get('idempotency-key'));
    return fetch(input, init);
  };
  return { keys, fetch: recorder };
}

/**
 * An HTTP proxy to the server that lets the first POST /charge reach it, waits for the whole response (so the
 * charge is committed), then destroys the client's socket instead of answering: the reply is lost in transit.
 */
async function proxyDroppingFirstCharge(target: string): Promise<{ url: string; dropped: () => string | undefined }> {
  const upstream = new URL(target);
  let dropped: string | undefined;
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => {
          const body = Buffer.concat(chunks);
          if (dropped === undefined && req.method === 'POST' && req.url === '/charge') {
            dropped = body.toString();
            req.socket.destroy();
            return;
          }
          res.writeHead(reply.statusCode ?? 502, reply.headers).end(body);
        });
      },
    );
    forward.on('error', (error) => res.destroy(error));
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dropped: () => dropped };
}

test('a charge whose reply is lost is retried with the same key and returns the original result, debited once', async () => {
  const user = (await admin.users.create({ name: 'lost reply', balances: { USD: '10.00' } })).data;
  const proxy = await proxyDroppingFirstCharge(url);
  const attempts = recording();
  const retries: RetryInfo[] = [];
  const client = new PicoPay({
    baseUrl: proxy.url,
    apiKey: KEYS.checkout,
    fetch: attempts.fetch,
    onRetry: (i) => void retries.push(i),
  });

  const result = await client.charges.create({
    user_id: user.id,
    amount: '2.50',
    currency: 'USD',
    description: 'order 1',
  });

  assert.ok(proxy.dropped() !== undefined, 'the first reply was dropped');
  assert.equal(retries.length, 1);
  assert.ok(retries[0]!.error instanceof PicoPayConnectionError);
  assert.equal(result.attempts, 2);
  assert.equal(result.replayed, true);
  assert.deepEqual(result.data, JSON.parse(proxy.dropped()!), 'the original result, not a second charge');
  assert.equal(result.data.new_balance_minor, 750);
  // The same generated key on both attempts (and it is the one the server recorded).
  assert.equal(attempts.keys.length, 2);
  assert.equal(attempts.keys[0], attempts.keys[1]);
  assert.equal(attempts.keys[0], result.idempotencyKey);
  assert.equal(result.data.transaction.idempotency_key, result.idempotencyKey);
  assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 750, 'debited once');
  let entries = 0;
  for await (const tx of client.users.transactions(user.id)) entries += tx.type === 'charge' ? 1 : 0;
  assert.equal(entries, 1);
});

test('409 idempotency_key_in_use is retried (after Retry-After) to a 200 once the other holder is gone', async () => {
  const user = (await admin.users.create({ balances: { USD: '10.00' } })).data;
  const key = newKey();
  // What a first request still in flight looks like: its claim on (client, key), not yet committed.
  const side = new pg.Client({ connectionString: DATABASE_URL });
  await side.connect();
  try {
    await side.query('BEGIN');
    await side.query(
      "INSERT INTO idempotency_keys (client, key, operation, fingerprint) VALUES ('checkout', $1, 'charge', '\\x00')",
      [key],
    );
    const retries: RetryInfo[] = [];
    const client = new PicoPay({
      baseUrl: url,
      apiKey: KEYS.checkout,
      onRetry: async (info) => {
        retries.push(info);
        // The holder gives up (rolls back) while the client waits: the next attempt finds the key free.
        if (retries.length === 1) await side.query('ROLLBACK');
      },
    });
    const result = await client.charges.create(
      { user_id: user.id, amount: '1.00', currency: 'USD' },
      { idempotencyKey: key },
    );
    assert.equal(result.status, 200);
    assert.equal(result.replayed, false);
    assert.equal(result.attempts, 2);
    assert.equal(retries[0]!.error.status, 409);
    assert.equal(retries[0]!.error.code, 'idempotency_key_in_use');
    assert.equal(retries[0]!.delayMs, 1000, "the server's Retry-After: 1");
    assert.equal(retries[0]!.idempotencyKey, key);
    assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 900);
  } finally {
    await side.end();
  }
});

test('a 400 insufficient_balance decline is final: one HTTP attempt and a typed error', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout, fetch: attempts.fetch });
  const error = await client.charges
    .create({ user_id: user.id, amount: '5.00', currency: 'USD' })
    .catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayApiError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.code, 'insufficient_balance');
  assert.equal(error.detail, 'Insufficient balance');
  assert.match(error.requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(error.attempts, 1);
  assert.equal(attempts.keys.length, 1);
  assert.equal(error.idempotencyKey, attempts.keys[0]);
  assert.equal((await client.users.retrieve(user.id)).data.balances_minor.USD, 100);
});

test('a 422 validation error is not retried and lists the fields', async () => {
  const user = (await admin.users.create({ balances: { USD: '1.00' } })).data;
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: KEYS.checkout, fetch: attempts.fetch });
  const error = await client.charges
    .create({ user_id: user.id, amount: '0.001', currency: 'USD', metadata: { '': 'empty key' } })
    .catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayApiError, String(error));
  assert.equal(error.status, 422);
  assert.equal(error.code, 'validation_failed');
  assert.deepEqual(error.errors.map((e) => e.field).sort(), ['amount', 'metadata']);
  assert.equal(attempts.keys.length, 1);
});

test('a bad API key is a 401 unauthorized, not retried', async () => {
  const attempts = recording();
  const client = new PicoPay({ baseUrl: url, apiKey: 'ck_not_a_real_key_zzzzzzzzzzzzzz', fetch: attempts.fetch });
  await assert.rejects(
    client.users.retrieve(1),
    (e: unknown) => e instanceof PicoPayApiError && e.status === 401 && e.code === 'unauthorized',
  );
  assert.equal(attempts.keys.length, 1);
});
