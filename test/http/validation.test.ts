import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  balanceMinor,
  chargeRequest,
  checkInvariantsAfterFile,
  createUser,
  KEYS,
  newKey,
  sql,
  startApp,
} from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app, url } = await startApp({}, { listen: true });
const db = sql();
// Bad requests name `user`; a key's valid retry charges `sink`, so `user` must never move.
const user = await createUser(app, { USD: 100, JPY: 1000, KWD: '1.000' });
const sink = await createUser(app, { USD: 1000 });
const START = { USD: 10000, JPY: 1000, KWD: 1000 };
const LEAK = /at .*\(|\.ts:|node_modules|SELECT |INSERT |pg_|\/work\//;
const bodies: string[] = [];

async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await app.inject(options);
  bodies.push(res.body);
  return res;
}

/** A charge body for `user` with raw JSON text for the amount (and optionally the rest). */
const raw = (amount: string, currency = '"USD"', extra = ''): string =>
  `{"user_id":${user.id},"amount":${amount},"currency":${currency}${extra}}`;
const body = (over: Record<string, unknown>): string =>
  JSON.stringify({ user_id: user.id, amount: 1, currency: 'USD', ...over });

function assertProblem(res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  const problem = res.json();
  assert.equal(problem.code, code);
  assert.equal(problem.status, status);
  assert.equal(problem.type, `urn:picopay:problem:${code}`);
  return problem;
}

async function assertUserUntouched(): Promise<void> {
  for (const [currency, minor] of Object.entries(START))
    assert.equal(await balanceMinor(app, user.id, currency), minor, currency);
}

/** The rejected request left nothing under its key: the same key with a valid body is a fresh charge. */
async function assertKeyUnused(key: string): Promise<void> {
  const rows = await db.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [key]);
  assert.equal(rows.rows[0].n, 0, 'no idempotency record');
  const retry = await send(chargeRequest({ user_id: sink.id, amount: '0.01', currency: 'USD' }, key));
  assert.equal(retry.statusCode, 200, retry.body);
  assert.equal(retry.headers['idempotent-replayed'], undefined);
}

const metadata21 = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
const INVALID: readonly (readonly [string, string, readonly string[]])[] = [
  ['amount with 3 decimals in USD ("49.999")', body({ amount: '49.999' }), ['amount']],
  ['amount with decimals in JPY (1.5)', raw('1.5', '"JPY"'), ['amount']],
  ['amount with 4 decimals in KWD ("0.0001")', raw('"0.0001"', '"KWD"'), ['amount']],
  ['amount 0', raw('0'), ['amount']],
  ['amount "0.00"', raw('"0.00"'), ['amount']],
  ['negative amount', raw('-5'), ['amount']],
  ['amount -0', raw('-0'), ['amount']],
  ['amount 1e309', raw('1e309'), ['amount']],
  ['amount "NaN"', raw('"NaN"'), ['amount']],
  ['amount "abc"', raw('"abc"'), ['amount']],
  ['amount true', raw('true'), ['amount']],
  ['amount null', raw('null'), ['amount']],
  ['amount []', raw('[]'), ['amount']],
  ['amount {}', raw('{}'), ['amount']],
  ['amount above 2^53-1 cents ("90071992547409.92" USD)', raw('"90071992547409.92"'), ['amount']],
  ['amount above 2^53-1 yen (9007199254740992 JPY)', raw('9007199254740992', '"JPY"'), ['amount']],
  ['amount 0.30000000000000004 (0.1+0.2)', raw('0.30000000000000004'), ['amount']],
  ['unknown currency "XYZ"', body({ currency: 'XYZ' }), ['currency']],
  ['lower-case currency "usd"', body({ currency: 'usd' }), ['currency']],
  ['currency 123', body({ currency: 123 }), ['currency']],
  ...(['1', '1 OR 1=1', true, [], 1.5, 0, -1, 2 ** 53] as const).map(
    (id) => [`user_id ${JSON.stringify(id)}`, body({ user_id: id }), ['user_id']] as const,
  ),
  [
    'unknown fields balance, status, foo',
    body({ balance: 1e6, status: 'completed', foo: null }),
    ['balance', 'status', 'foo'],
  ],
  ['description of 501 characters', body({ description: 'd'.repeat(501) }), ['description']],
  ['metadata with 21 keys', body({ metadata: metadata21 }), ['metadata']],
  ['metadata with a non-string value', body({ metadata: { a: 1 } }), ['metadata.a']],
  ['metadata key of 41 characters', body({ metadata: { ['k'.repeat(41)]: 'v' } }), ['metadata']],
  ['body []', '[]', ['body']],
  ['body "str"', '"str"', ['body']],
  ['body null', 'null', ['body']],
  // Every bad field at once: schema failures and the amount/currency/metadata checks the schema cannot express.
  ['bad amount and an unknown field', raw('"abc"', '"USD"', ',"foo":1'), ['amount', 'foo']],
  ['unknown currency and a bad user_id', body({ user_id: 'x', currency: 'XYZ' }), ['currency', 'user_id']],
  [
    'bad user_id, amount, metadata key, description and an unknown field',
    body({ user_id: 0, amount: '1.001', metadata: { ['m'.repeat(41)]: 'v' }, description: 'd'.repeat(501), foo: 1 }),
    ['amount', 'description', 'foo', 'metadata', 'user_id'],
  ],
];

describe('422 validation_failed lists the offending fields, charges nothing and leaves the key unused', () => {
  for (const [name, payload, fields] of INVALID) {
    test(`${name} → 422 naming ${fields.join(', ')}`, async () => {
      const key = newKey();
      const problem = assertProblem(await send(chargeRequest(payload, key)), 422, 'validation_failed');
      const errors = problem.errors as { field: string; message: string }[];
      assert.deepEqual(errors.map((e) => e.field).sort(), [...fields].sort(), JSON.stringify(errors));
      for (const e of errors) assert.ok(typeof e.message === 'string' && e.message.length > 0);
      await assertKeyUnused(key);
      await assertUserUntouched();
    });
  }

  test('a request with no body at all → 422 naming body', async () => {
    const key = newKey();
    const headers = { 'x-api-key': KEYS.checkout, 'idempotency-key': key };
    const problem = assertProblem(await send({ method: 'POST', url: '/charge', headers }), 422, 'validation_failed');
    assert.deepEqual(problem.errors, [{ field: 'body', message: 'must be object' }]);
    await assertKeyUnused(key);
    await assertUserUntouched();
  });
});

describe('malformed bodies are 400/413/415 and leave the key unused', () => {
  const MALFORMED: readonly (readonly [string, string])[] = [
    ['an unclosed object', '{'],
    ['a trailing comma', '{"a":1,}'],
    ['single quotes', `{'user_id':${user.id},'amount':1,'currency':'USD'}`],
    ['trailing garbage', `${body({})} x`],
    ['an empty body sent as JSON', ''],
    ['a duplicate key', `{"user_id":${user.id},"user_id":${sink.id},"amount":1,"currency":"USD"}`],
    ['a __proto__ key', raw('1', '"USD"', ',"__proto__":{"amount":1000}')],
    ['a constructor key', raw('1', '"USD"', ',"constructor":{"prototype":{}}')],
    ['nesting 9 deep', raw('1', '"USD"', `,"metadata":${'['.repeat(8)}${']'.repeat(8)}`)],
  ];
  for (const [name, payload] of MALFORMED) {
    test(`${name} → 400 invalid_json`, async () => {
      const key = newKey();
      assertProblem(await send(chargeRequest(payload, key)), 400, 'invalid_json');
      await assertKeyUnused(key);
      await assertUserUntouched();
    });
  }

  test('nesting exactly 8 deep parses (and fails validation, not parsing)', async () => {
    const res = await send(chargeRequest(raw('1', '"USD"', `,"metadata":${'['.repeat(7)}${']'.repeat(7)}`)));
    assertProblem(res, 422, 'validation_failed');
  });

  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    test(`a ${type} body → 415 unsupported_media_type`, async () => {
      const key = newKey();
      const request = chargeRequest('user_id=1&amount=1&currency=USD', key);
      assertProblem(
        await send({ ...request, headers: { ...request.headers, 'content-type': type } }),
        415,
        'unsupported_media_type',
      );
      await assertKeyUnused(key);
      await assertUserUntouched();
    });
  }

  test('a body of 16 KiB + 1 byte → 413 payload_too_large; exactly 16 KiB is accepted', async () => {
    const valid = JSON.stringify({ user_id: sink.id, amount: '0.01', currency: 'USD' });
    const exact = await send(chargeRequest(valid.padEnd(16_384, ' ')));
    assert.equal(exact.statusCode, 200, exact.body);
    const key = newKey();
    assertProblem(await send(chargeRequest(raw('1').padEnd(16_385, ' '), key)), 413, 'payload_too_large');
    await assertKeyUnused(key);
    await assertUserUntouched();
  });
});

/** One request over a real socket, so repeated header lines really arrive as two lines. */
async function rawPost(headerLines: readonly string[], payload: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  const head = [
    'POST /charge HTTP/1.1',
    `Host: ${hostname}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    `X-API-Key: ${KEYS.checkout}`,
    ...headerLines,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${payload}`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const responseBody = text.slice(text.indexOf('\r\n\r\n') + 4);
  bodies.push(responseBody);
  return { status: Number(text.split(' ')[1]), body: responseBody };
}

describe('Idempotency-Key header', () => {
  const valid = (): string => body({ amount: '0.01', user_id: sink.id });
  const BAD: readonly (readonly [string, string | undefined])[] = [
    ['missing', undefined],
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII ("café")', 'café'],
    ['a control character (U+0001)', 'abc\x01'],
    ['a tab', 'a\tb'],
  ];
  for (const [name, key] of BAD) {
    test(`${name} → 400 invalid_idempotency_key, nothing charged`, async () => {
      const before = await balanceMinor(app, sink.id);
      const request = chargeRequest(valid(), key ?? 'dropped'); // chargeRequest's default would supply a key
      if (key === undefined) delete request.headers['idempotency-key'];
      assertProblem(await send(request), 400, 'invalid_idempotency_key');
      assert.equal(await balanceMinor(app, sink.id), before);
    });
  }

  test('given twice over a real socket → 400, nothing charged', async () => {
    const before = await balanceMinor(app, sink.id);
    const res = await rawPost([`Idempotency-Key: ${newKey()}`, `Idempotency-Key: ${newKey()}`], valid());
    assert.equal(res.status, 400, res.body);
    assert.equal(JSON.parse(res.body).code, 'invalid_idempotency_key');
    assert.equal(await balanceMinor(app, sink.id), before);
  });

  test('given twice via inject (arrives as one line "a,b", as a proxy may join it) → 400', async () => {
    const request = chargeRequest(valid());
    const res = await send({ ...request, headers: { ...request.headers, 'idempotency-key': [newKey(), newKey()] } });
    assertProblem(res, 400, 'invalid_idempotency_key');
  });

  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
    .filter((c) => c !== ',')
    .join('');
  const long = (newKey() + printable.repeat(3)).slice(0, 255);
  for (const [name, key, stored] of [
    ['a UUID', newKey(), undefined],
    ['255 printable characters', long, undefined],
    ['a quoted string "abc…"', `"abc-${newKey()}"`, 'unquoted'],
    ['a quoted key with a comma', `"a,${newKey()}"`, 'unquoted'],
  ] as const) {
    test(`${name} is accepted and is the key the charge is stored under`, async () => {
      const res = await send(chargeRequest(valid(), key));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().transaction.idempotency_key, stored === undefined ? key : key.slice(1, -1));
    });
  }
});

test('no response body in this file leaks a stack trace, SQL text or a file path', () => {
  assert.ok(bodies.length > 100, `scanned ${bodies.length} bodies`);
  for (const text of bodies) assert.doesNotMatch(text, LEAK);
});
