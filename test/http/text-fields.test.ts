// The one storable-text rule (src/lib/schemas.ts StorableText), field by field: every text a request can store (user
// name, charge and credit description, metadata keys and values, refund reason) is either stored and echoed exactly as
// sent, byte for byte in PostgreSQL, in the response, in its replay and in every GET that shows it, or refused with a
// 422 validation_failed naming the field, with nothing written and the Idempotency-Key still free. Never a 500 (a NUL
// used to be one for a name or a reason) and never a silent change (a lone surrogate used to be stored as U+FFFD).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { STORABLE_TEXT_MESSAGE } from '../../src/lib/schemas.ts';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp();
const db = sql();
const payer = await createUser(app, { USD: 1000 });
const reader = { 'x-api-key': KEYS.checkout };

/** Legal text, at most 40 code points (so each is also a valid metadata key); every one must come back unchanged. */
const STORABLE: readonly (readonly [string, string])[] = [
  ['tab and line feed', 'a\tb\nc\n'],
  ['an astral character (a surrogate pair)', '𝄞 😀👍🏽'],
  ['the first and last code points around the refused ranges', ' ~\u00a0\ud7ff\ue000\uffff\u{10ffff}'],
  ['line and paragraph separators', 'x\u2028y\u2029z'],
  ['bidi override, BOM and zero-width joiner', '\u202eabc\u202c\ufeff\u200d'],
  ['combining marks and CJK', 'e\u0301 名前 Ω≈ç√'],
  ['SQL and JSON metacharacters', `'; DROP TABLE users; --"\\`],
  ['an escape written out as text', '\\u0000 \\ud800 %00'],
  ['one space', ' '],
];

/** Every class the rule refuses. The token in front lets the test look for a row that must not exist. */
const REFUSED: readonly (readonly [string, string])[] = [
  ['NUL', 'a\u0000b'],
  ['SOH', '\u0001'],
  ['CR', 'line\r\n'],
  ['ESC (a terminal escape sequence)', '\u001b[31mred'],
  ['US', 'x\u001f'],
  ['DEL', 'a\u007f'],
  ['a C1 control (NEL)', 'a\u0085b'],
  ['a C1 control (CSI)', '\u009b31m'],
  ['a lone high surrogate', 'a\ud800b'],
  ['a lone low surrogate', '\udc00'],
  ['a high surrogate at the end', 'ab\ud83d'],
  ['a pair in the wrong order', '\ude00\ud83d'],
];

interface Sent {
  readonly res: LightMyRequestResponse;
  /** What a valid retry of the same Idempotency-Key must get: a fresh 2xx, nothing replayed. */
  readonly retry?: () => Promise<LightMyRequestResponse>;
  /** Checks that the refused request left no row behind. */
  readonly nothingWritten: () => Promise<void>;
}

interface Target {
  readonly label: string;
  /** The field a 422 names. */
  readonly field: string;
  send(text: string): Promise<Sent>;
  /** The text in a 2xx body. */
  echoed(body: Record<string, unknown>): unknown;
  /** The text as a GET shows it now. */
  read(body: Record<string, unknown>): Promise<unknown>;
  /** The UTF-8 bytes PostgreSQL stored. */
  stored(body: Record<string, unknown>): Promise<Buffer>;
}

const json = (res: LightMyRequestResponse): Record<string, unknown> => res.json<Record<string, unknown>>();
const tx = (body: Record<string, unknown>): Record<string, unknown> => body.transaction as Record<string, unknown>;
const only = (rows: { b: Buffer }[]): Buffer => {
  assert.equal(rows.length, 1);
  return rows[0]!.b;
};

async function get(url: string, headers: Record<string, string> = reader): Promise<Record<string, unknown>> {
  const res = await app.inject({ method: 'GET', url, headers });
  assert.equal(res.statusCode, 200, res.body);
  return json(res);
}

/** The entry as GET /users/{id}/transactions lists it. */
// Read with the admin key (read:all): a credit is the admin client's entry, which a client key sees redacted.
async function listed(userId: unknown, id: unknown): Promise<Record<string, unknown>> {
  const page = await get(`/users/${String(userId)}/transactions?limit=100`, { 'x-api-key': KEYS.admin });
  const entry = (page.data as Record<string, unknown>[]).find((t) => t.id === id);
  assert.ok(entry !== undefined, `entry ${String(id)} listed`);
  return entry;
}

async function keyRecords(key: string): Promise<number> {
  const rows = await db.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [key]);
  return rows.rows[0].n as number;
}

async function entries(userId: number): Promise<number> {
  const rows = await db.query('SELECT count(*)::int AS n FROM ledger_entries WHERE user_id = $1', [userId]);
  return rows.rows[0].n as number;
}

const descriptionBytes = async (body: Record<string, unknown>): Promise<Buffer> =>
  only(
    (await db.query("SELECT convert_to(description, 'UTF8') AS b FROM ledger_entries WHERE id = $1", [tx(body).id]))
      .rows,
  );
const metadataKeyBytes = async (body: Record<string, unknown>): Promise<Buffer> =>
  only(
    (
      await db.query(
        "SELECT convert_to(k, 'UTF8') AS b FROM ledger_entries, jsonb_object_keys(metadata) AS k WHERE id = $1",
        [tx(body).id],
      )
    ).rows,
  );
const metadataValueBytes = async (body: Record<string, unknown>): Promise<Buffer> =>
  only(
    (await db.query("SELECT convert_to(metadata->>'k', 'UTF8') AS b FROM ledger_entries WHERE id = $1", [tx(body).id]))
      .rows,
  );
const onlyKey = (metadata: unknown): string => {
  const keys = Object.keys(metadata as object);
  assert.equal(keys.length, 1, JSON.stringify(metadata));
  return keys[0]!;
};
const valueOf = (metadata: unknown): unknown => (metadata as Record<string, unknown>).k;

/** POST /charge (client key) or POST /users/{id}/credits (admin key) with `extra` in the body. */
function moneyTarget(route: 'charge' | 'credit', where: 'description' | 'metadata-key' | 'metadata-value'): Target {
  const extra = (text: string): Record<string, unknown> =>
    where === 'description'
      ? { description: text }
      : { metadata: where === 'metadata-key' ? { [text]: 'v' } : { k: text } };
  const request = (payload: Record<string, unknown>, key: string) =>
    route === 'charge'
      ? chargeRequest({ user_id: payer.id, amount: '0.01', currency: 'USD', ...payload }, key)
      : {
          method: 'POST' as const,
          url: `/users/${payer.id}/credits`,
          headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json', 'idempotency-key': key },
          payload: JSON.stringify({ amount: '0.01', currency: 'USD', ...payload }),
        };
  const pick = (t: Record<string, unknown>): unknown =>
    where === 'description' ? t.description : where === 'metadata-key' ? onlyKey(t.metadata) : valueOf(t.metadata);
  return {
    label: `POST ${route === 'charge' ? '/charge' : '/users/{id}/credits'} ${where}`,
    field: where === 'description' ? 'description' : where === 'metadata-key' ? 'metadata' : 'metadata.k',
    async send(text) {
      const key = newKey();
      const before = await entries(payer.id);
      const res = await app.inject(request(extra(text), key));
      return {
        res,
        retry: () => app.inject(request({}, key)),
        nothingWritten: async () => {
          assert.equal(await keyRecords(key), 0, 'no idempotency record');
          assert.equal(await entries(payer.id), before, 'no ledger entry');
        },
      };
    },
    echoed: (body) => pick(tx(body)),
    read: async (body) => {
      const t = tx(body);
      const viaList = pick(await listed(t.user_id, t.id));
      if (route === 'credit') return viaList;
      assert.deepEqual(pick(await get(`/charges/${String(t.id)}`)), viaList, 'GET /charges/{id} and the list agree');
      return viaList;
    },
    stored:
      where === 'description' ? descriptionBytes : where === 'metadata-key' ? metadataKeyBytes : metadataValueBytes,
  };
}

const userTarget: Target = {
  label: 'POST /users name',
  field: 'name',
  async send(text) {
    const token = randomUUID();
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: `${token}${text}`, balances: { USD: 1 } }),
    });
    return {
      res,
      nothingWritten: async () => {
        const rows = await db.query('SELECT count(*)::int AS n FROM users WHERE position($1 in name) > 0', [token]);
        assert.equal(rows.rows[0].n, 0, 'no user created');
      },
    };
  },
  // The token is 36 ASCII characters in front of the text.
  echoed: (body) => String(body.name).slice(36),
  read: async (body) => String((await get(`/users/${String(body.id)}`)).name).slice(36),
  stored: async (body) =>
    only((await db.query("SELECT substr(convert_to(name, 'UTF8'), 37) AS b FROM users WHERE id = $1", [body.id])).rows),
};

const refundTarget: Target = {
  label: 'POST /charges/{id}/refunds reason',
  field: 'reason',
  async send(text) {
    const charged = await app.inject(chargeRequest({ user_id: payer.id, amount: '0.01', currency: 'USD' }));
    assert.equal(charged.statusCode, 200, charged.body);
    const chargeId = tx(json(charged)).id;
    const key = newKey();
    const refund = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/charges/${String(chargeId)}/refunds`,
        headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'idempotency-key': key },
        payload: JSON.stringify(payload),
      });
    return {
      res: await refund({ reason: text }),
      retry: () => refund({}),
      nothingWritten: async () => {
        assert.equal(await keyRecords(key), 0, 'no idempotency record');
        assert.deepEqual((await get(`/charges/${String(chargeId)}`)).refunds, [], 'no refund entry');
      },
    };
  },
  echoed: (body) => tx(body).description,
  read: async (body) => {
    const t = tx(body);
    const viaGet = (await get(`/refunds/${String(t.id)}`)).description;
    assert.deepEqual((await listed(t.user_id, t.id)).description, viaGet, 'GET /refunds/{id} and the list agree');
    return viaGet;
  },
  stored: descriptionBytes,
};

const TARGETS: readonly Target[] = [
  userTarget,
  moneyTarget('charge', 'description'),
  moneyTarget('charge', 'metadata-key'),
  moneyTarget('charge', 'metadata-value'),
  moneyTarget('credit', 'description'),
  moneyTarget('credit', 'metadata-key'),
  moneyTarget('credit', 'metadata-value'),
  refundTarget,
];

describe('storable text is stored and shown exactly as sent, in every text field', () => {
  for (const target of TARGETS) {
    test(`${target.label}: ${STORABLE.length} legal strings round-trip byte for byte`, async () => {
      for (const [name, text] of STORABLE) {
        const { res } = await target.send(text);
        assert.ok(res.statusCode === 200 || res.statusCode === 201, `${name}: ${res.statusCode} ${res.body}`);
        const body = json(res);
        assert.equal(target.echoed(body), text, `${name}: the response`);
        assert.equal(await target.read(body), text, `${name}: GET`);
        assert.ok((await target.stored(body)).equals(Buffer.from(text, 'utf8')), `${name}: the bytes in PostgreSQL`);
      }
    });
  }

  test('a replay of the same request shows the stored text unchanged', async () => {
    const text = STORABLE.map(([, t]) => t).join('|');
    const key = newKey();
    const request = chargeRequest(
      { user_id: payer.id, amount: '0.01', currency: 'USD', description: text, metadata: { k: text } },
      key,
    );
    const first = await app.inject(request);
    assert.equal(first.statusCode, 200, first.body);
    const again = await app.inject(request);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.equal(valueOf(tx(json(again)).metadata), text);
  });

  test('a surrogate pair sent as two \\u escapes is the astral character it encodes', async () => {
    const key = newKey();
    const payload = `{"user_id":${payer.id},"amount":"0.01","currency":"USD","description":"\\ud83d\\ude00","metadata":{"\\ud834\\udd1e":"\\ud83d\\udc4d"}}`;
    const res = await app.inject({ ...chargeRequest(payload, key) });
    assert.equal(res.statusCode, 200, res.body);
    const t = tx(json(res));
    assert.equal(t.description, '😀');
    assert.deepEqual(t.metadata, { '𝄞': '👍' });
  });
});

describe('text the rule refuses is a 422 naming the field: nothing written, the key still free', () => {
  for (const target of TARGETS) {
    test(`${target.label}: ${REFUSED.length} refused strings`, async () => {
      for (const [name, text] of REFUSED) {
        const sent = await target.send(text);
        assert.equal(sent.res.statusCode, 422, `${name}: ${sent.res.body}`);
        const problem = json(sent.res);
        assert.equal(problem.code, 'validation_failed', name);
        const message = target.field === 'metadata' ? `keys ${STORABLE_TEXT_MESSAGE}` : STORABLE_TEXT_MESSAGE;
        assert.deepEqual(problem.errors, [{ field: target.field, message }], name);
        await sent.nothingWritten();
        if (sent.retry !== undefined) {
          const retry = await sent.retry();
          assert.equal(retry.statusCode, 200, `${name}: the key's valid retry ${retry.body}`);
          assert.equal(retry.headers['idempotent-replayed'], undefined, `${name}: nothing to replay`);
        }
      }
    });
  }

  test('the 500s of the issue: a NUL in a user name and in a refund reason', async () => {
    for (const target of [userTarget, refundTarget]) {
      const sent = await target.send('a\u0000b');
      assert.equal(sent.res.statusCode, 422, sent.res.body);
      assert.equal(json(sent.res).code, 'validation_failed');
    }
  });

  test('a text of the right type that breaks a limit says which, not "must be null"', async () => {
    const res = await app.inject(
      chargeRequest({
        user_id: payer.id,
        amount: '0.01',
        currency: 'USD',
        description: 'd'.repeat(501),
        metadata: { ['k'.repeat(41)]: 'v' },
      }),
    );
    assert.equal(res.statusCode, 422, res.body);
    assert.deepEqual(json(res).errors, [
      { field: 'description', message: 'must not have more than 500 characters' },
      { field: 'metadata', message: 'keys must not have more than 40 characters' },
    ]);
  });

  test('every bad field is listed at once, with the amount check the schema cannot express', async () => {
    const res = await app.inject(
      chargeRequest({
        user_id: payer.id,
        amount: '0.001',
        currency: 'USD',
        description: 'd\u0000',
        metadata: { ok: 'v', 'bad\r': 'v', k: '\ud800' },
      }),
    );
    assert.equal(res.statusCode, 422, res.body);
    const fields = (json(res).errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual(fields, ['amount', 'description', 'metadata', 'metadata.k']);
  });
});

describe('query strings carry no free text to PostgreSQL', () => {
  // Every query parameter is an integer, a closed set of words, digits or an RFC 3339 date-time (headers: the
  // Idempotency-Key is printable ASCII, X-Request-Id is echoed only when safe and never stored), so none can carry a
  // control character or a broken surrogate to PostgreSQL: each is a 422 naming the parameter.
  test('control characters and broken UTF-8 in the transaction filters are 422 naming the parameter', async () => {
    const CASES = [
      ['type=charge%00', 'querystring.type'],
      ['cursor=1%00', 'querystring.cursor'],
      ['created_after=2024-01-01T00:00:00Z%00', 'querystring.created_after'],
      ['created_before=2024-01-01T00:00:00Z%0D', 'querystring.created_before'],
      ['created_before=%ED%A0%80', 'querystring.created_before'],
      ['limit=1%00', 'querystring.limit'],
    ] as const;
    const got: string[] = [];
    for (const [query] of CASES) {
      const res = await app.inject({ method: 'GET', url: `/users/${payer.id}/transactions?${query}`, headers: reader });
      const fields = res.statusCode === 422 ? (json(res).errors as { field: string }[]).map((e) => e.field) : [];
      got.push(`${query} → ${res.statusCode} ${fields.join(',')}`);
    }
    assert.deepEqual(
      got,
      CASES.map(([query, field]) => `${query} → 422 ${field}`),
    );
  });
});
