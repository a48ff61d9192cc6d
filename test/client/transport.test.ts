// The client's retry policy against a scripted fetch: no server, every answer chosen by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelay,
  parseRetryAfter,
  PicoPay,
  PicoPayApiError,
  PicoPayConnectionError,
  PicoPayTimeoutError,
  type FetchLike,
  type RetryInfo,
} from '../../packages/client/src/index.ts';

type Step = Response | Error | 'hang';

interface Call {
  readonly url: string;
  readonly init: RequestInit;
  readonly headers: Headers;
}

/** A fetch that answers from a script and records each attempt; 'hang' waits until the attempt is aborted. */
function scripted(...steps: Step[]): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init, headers: new Headers(init.headers) });
    const step = steps[Math.min(calls.length, steps.length) - 1]!;
    if (step === 'hang') {
      // A real fetch's socket keeps the process alive while it waits; AbortSignal.timeout's timer does not.
      const alive = setInterval(() => undefined, 60_000);
      return new Promise((_, reject) =>
        init.signal?.addEventListener('abort', () => {
          clearInterval(alive);
          reject(init.signal?.reason);
        }),
      );
    }
    if (step instanceof Error) throw step;
    return step.clone();
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, code: string, headers: Record<string, string> = {}): Response =>
  json(
    status,
    { type: `urn:picopay:problem:${code}`, title: code, status, detail: `detail of ${code}`, code },
    headers,
  );
const networkError = (code: string): Error =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
const MONEY = {
  message: 'Charge processed successfully',
  transaction: { id: 7 },
  new_balance: 1,
  new_balance_minor: 100,
};
const CHARGE = { user_id: 1, amount: '1.00', currency: 'USD' };

function client(fetch: FetchLike, extra: { maxRetries?: number; timeoutMs?: number; deadlineMs?: number } = {}) {
  const retries: RetryInfo[] = [];
  const picopay = new PicoPay({
    baseUrl: 'http://picopay.test/',
    apiKey: 'sk_test',
    fetch,
    onRetry: (i) => void retries.push(i),
    ...extra,
  });
  return { picopay, retries };
}

test('Retry-After is honoured: 503 with Retry-After: 0, then 200, retries at once with the same key', async () => {
  const { fetch, calls } = scripted(
    problem(503, 'database_unavailable', { 'retry-after': '0' }),
    json(200, MONEY, { 'x-request-id': 'r2' }),
  );
  const { picopay, retries } = client(fetch);
  const result = await picopay.charges.create(CHARGE);
  assert.deepEqual(result.data, MONEY);
  assert.equal(result.attempts, 2);
  assert.equal(result.requestId, 'r2');
  assert.equal(result.replayed, false);
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.delayMs, r.error.code]),
    [[1, 0, 'database_unavailable']],
  );
  assert.equal(calls[0]!.headers.get('idempotency-key'), calls[1]!.headers.get('idempotency-key'));
});

test('a long Retry-After is what the client waits (seen from onRetry); one past the deadline ends the call', async () => {
  const stop = new Error('stop before waiting');
  const slow = scripted(problem(429, 'rate_limited', { 'retry-after': '2' }), json(200, MONEY));
  const picopay = new PicoPay({
    baseUrl: 'http://picopay.test',
    apiKey: 'k',
    fetch: slow.fetch,
    onRetry: (i) => {
      assert.equal(i.delayMs, 2000);
      throw stop;
    },
  });
  await assert.rejects(picopay.charges.create(CHARGE), stop);

  const late = scripted(problem(503, 'database_unavailable', { 'retry-after': '60' }), json(200, MONEY));
  const { picopay: bounded, retries } = client(late.fetch, { deadlineMs: 5_000 });
  await assert.rejects(
    bounded.charges.create(CHARGE),
    (e: unknown) => e instanceof PicoPayApiError && e.status === 503 && e.attempts === 1,
  );
  assert.equal(late.calls.length, 1);
  assert.equal(retries.length, 0);
});

test('parseRetryAfter reads seconds and HTTP dates; backoff is full jitter under the cap', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(
    backoffDelay(0, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(0, () => 0.999),
    99,
  );
  assert.equal(
    backoffDelay(3, () => 0.5),
    400,
  );
  assert.equal(
    backoffDelay(20, () => 0.999),
    4995,
  );
});

test('a 4xx decision is never retried, and surfaces as a typed error', async () => {
  for (const [status, code] of [
    [400, 'insufficient_balance'],
    [401, 'unauthorized'],
    [403, 'insufficient_scope'],
    [404, 'user_not_found'],
    [422, 'validation_failed'],
  ] as const) {
    const { fetch, calls } = scripted(problem(status, code, { 'x-request-id': `req-${status}` }), json(200, MONEY));
    const { picopay, retries } = client(fetch);
    const error = await picopay.charges.create(CHARGE).catch((e: unknown) => e);
    assert.ok(error instanceof PicoPayApiError, String(error));
    assert.deepEqual(
      [error.status, error.code, error.detail, error.requestId, error.attempts],
      [status, code, `detail of ${code}`, `req-${status}`, 1],
    );
    assert.equal(calls.length, 1);
    assert.equal(retries.length, 0);
  }
});

test('transient answers are retried up to maxRetries, every attempt with the one generated key', async () => {
  const { fetch, calls } = scripted(
    problem(409, 'idempotency_key_in_use', { 'retry-after': '0' }),
    new Response('<html>bad gateway</html>', { status: 502, headers: { 'retry-after': '0' } }),
    problem(500, 'internal_error', { 'retry-after': '0' }),
    problem(503, 'database_unavailable', { 'retry-after': '0' }),
  );
  const { picopay, retries } = client(fetch, { maxRetries: 3 });
  const error = await picopay.users.credit(5, { amount: 1, currency: 'USD' }).catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayApiError);
  assert.equal(error.code, 'database_unavailable');
  assert.equal(error.attempts, 4);
  assert.deepEqual(
    retries.map((r) => r.error.code),
    ['idempotency_key_in_use', 'http_502', 'internal_error'],
  );
  const keys = new Set(calls.map((c) => c.headers.get('idempotency-key')));
  assert.equal(keys.size, 1);
  assert.match([...keys][0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(error.idempotencyKey, [...keys][0]);
  assert.equal(calls[0]!.url, 'http://picopay.test/users/5/credits');
});

test('each logical call gets its own key; a caller key is sent verbatim; reads send none', async () => {
  const { fetch, calls } = scripted(json(200, MONEY));
  const { picopay } = client(fetch);
  await picopay.charges.create(CHARGE);
  await picopay.charges.create(CHARGE);
  await picopay.charges.create(CHARGE, { idempotencyKey: 'order-42' });
  await picopay.charges.retrieve(7).catch(() => undefined);
  const keys = calls.map((c) => c.headers.get('idempotency-key'));
  assert.notEqual(keys[0], keys[1]);
  assert.equal(keys[2], 'order-42');
  assert.equal(keys[3], null);
  assert.equal(calls[0]!.headers.get('x-api-key'), 'sk_test');
  assert.equal(calls[0]!.headers.get('content-type'), 'application/json');
  assert.equal(calls[0]!.headers.get('user-agent'), '@picopay/client');
  assert.deepEqual(JSON.parse(calls[0]!.init.body as string), CHARGE);
});

test('network errors and timeouts are retried, then surface as connection / timeout errors', async () => {
  const dropped = scripted(networkError('ECONNRESET'), json(200, MONEY, { 'idempotent-replayed': 'true' }));
  const first = client(dropped.fetch);
  const result = await first.picopay.charges.create(CHARGE);
  assert.equal(result.replayed, true);
  assert.ok(first.retries[0]!.error instanceof PicoPayConnectionError);

  const hung = scripted('hang');
  const second = client(hung.fetch, { timeoutMs: 20, maxRetries: 1 });
  const error = await second.picopay.charges.create(CHARGE).catch((e: unknown) => e);
  assert.ok(error instanceof PicoPayTimeoutError, String(error));
  assert.equal(error.code, 'timeout');
  assert.equal(error.attempts, 2);
  assert.equal(error.status, undefined);
  assert.equal(hung.calls[0]!.headers.get('idempotency-key'), error.idempotencyKey);
});

test('users.create (no Idempotency-Key on the server) is retried only when the request certainly did nothing', async () => {
  const unsure = scripted(problem(503, 'database_unavailable', { 'retry-after': '0' }), json(201, { id: 1 }));
  await assert.rejects(
    client(unsure.fetch).picopay.users.create({}),
    (e: unknown) => e instanceof PicoPayApiError && e.status === 503,
  );
  assert.equal(unsure.calls.length, 1);
  const cut = scripted(networkError('ECONNRESET'), json(201, { id: 1 }));
  await assert.rejects(client(cut.fetch).picopay.users.create(), PicoPayConnectionError);
  assert.equal(cut.calls.length, 1);

  const refused = scripted(
    networkError('ECONNREFUSED'),
    problem(429, 'rate_limited', { 'retry-after': '0' }),
    json(201, { id: 1 }),
  );
  const created = await client(refused.fetch).picopay.users.create();
  assert.equal(created.attempts, 3);
  assert.equal(created.status, 201);
  assert.equal(refused.calls[0]!.init.body, '{}');
});

test("the caller's abort ends the call with its reason, without retrying", async () => {
  const { fetch, calls } = scripted('hang');
  const controller = new AbortController();
  const call = client(fetch).picopay.charges.create(CHARGE, { signal: controller.signal });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(call, /caller gave up/);
  assert.equal(calls.length, 1);
});

test('users.transactions follows next_cursor until null, and pages() exposes each page', async () => {
  const page = (ids: number[], next: string | null) =>
    json(200, { data: ids.map((id) => ({ id })), next_cursor: next });
  const { fetch, calls } = scripted(page([5, 4], '4'), page([3, 2], '2'), page([1], null));
  const { picopay } = client(fetch);
  const ids: number[] = [];
  for await (const tx of picopay.users.transactions(9, { limit: 2 })) ids.push(tx.id);
  assert.deepEqual(ids, [5, 4, 3, 2, 1]);
  assert.deepEqual(
    calls.map((c) => new URL(c.url).search),
    ['?limit=2', '?limit=2&cursor=4', '?limit=2&cursor=2'],
  );
});
