// Holds under concurrency: capture vs void vs a second capture vs expiry on one hold (exactly one wins, the others get
// a stable code), and a property-based test that charges and holds on one account never overdraw its available
// balance, against a model (sequentially: the exact outcome of every request; concurrently: conservation).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chargeRequest, checkInvariantsAfterFile, createUser, KEYS, newKey, sql, startApp } from '../helpers/app.ts';

checkInvariantsAfterFile();
const { app } = await startApp({ HOLD_SWEEP_INTERVAL_MS: '0', DB_POOL_SIZE: '12' });
const db = sql();

function post(url: string, body?: unknown) {
  const headers: Record<string, string> = { 'x-api-key': KEYS.checkout, 'idempotency-key': newKey() };
  if (body === undefined) return app.inject({ method: 'POST', url, headers });
  headers['content-type'] = 'application/json';
  return app.inject({ method: 'POST', url, headers, payload: JSON.stringify(body) });
}

async function hold(userId: number, amountMinor: number) {
  return post('/authorizations', { user_id: userId, amount: (amountMinor / 100).toFixed(2), currency: 'USD' });
}

async function account(userId: number) {
  const r = await db.query<{ balance: string; held: string }>(
    `SELECT balance, held FROM accounts WHERE user_id = $1 AND currency = 'USD'`,
    [userId],
  );
  return { balance: Number(r.rows[0]!.balance), held: Number(r.rows[0]!.held) };
}

describe('one hold, many settlers', () => {
  test('capture vs void vs a second capture: exactly one wins, each loser gets a stable code', async () => {
    const user = await createUser(app, { USD: 1000 });
    for (let round = 0; round < 12; round++) {
      const h = await hold(user.id, 1000);
      assert.equal(h.statusCode, 201, h.body);
      const id = h.json().id as number;
      const replies = await Promise.all([
        post(`/authorizations/${id}/capture`),
        post(`/authorizations/${id}/capture`, { amount: '3.00' }),
        post(`/authorizations/${id}/void`),
        post(`/authorizations/${id}/capture`, { amount: '1.00' }),
      ]);
      const winners = replies.filter((r) => r.statusCode === 200);
      assert.equal(winners.length, 1, replies.map((r) => r.body).join('\n'));
      const winner = winners[0]!.json();
      const allowed = winner.status === 'voided' ? 'authorization_not_pending' : 'authorization_already_captured';
      for (const r of replies.filter((x) => x.statusCode !== 200)) {
        assert.equal(r.statusCode, 409, r.body);
        assert.equal(r.json().code, allowed);
      }
    }
    assert.equal((await account(user.id)).held, 0);
  });

  test('capture vs void vs the sweeper on an expired hold: it expires once, everyone else is told so', async () => {
    const user = await createUser(app, { USD: 1000 });
    for (let round = 0; round < 8; round++) {
      const id = (await hold(user.id, 500)).json().id as number;
      await db.query(`UPDATE authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
      const [capture, voided, sweep] = await Promise.all([
        post(`/authorizations/${id}/capture`),
        post(`/authorizations/${id}/void`),
        db.query('SELECT picopay_expire_holds(100)'),
      ]);
      assert.ok(sweep.rows.length === 1);
      for (const r of [capture, voided]) {
        assert.equal(r.statusCode, 422, r.body);
        assert.equal(r.json().code, 'authorization_expired');
      }
      const releases = await db.query(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE authorization_id = $1 AND type = 'release'`,
        [id],
      );
      assert.equal(releases.rows[0].n, 1);
    }
    assert.deepEqual(await account(user.id), { balance: 100_000, held: 0 });
  });
});

type Op =
  | { kind: 'charge'; amount: number }
  | { kind: 'authorize'; amount: number }
  | { kind: 'capture'; hold: number; amount: number | null }
  | { kind: 'void'; hold: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('charge' as const), amount: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({ kind: fc.constant('authorize' as const), amount: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({
    kind: fc.constant('capture' as const),
    hold: fc.nat(9),
    amount: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: null }),
  }),
  fc.record({ kind: fc.constant('void' as const), hold: fc.nat(9) }),
);

interface Model {
  balance: number;
  held: number;
  holds: { id: number; amount: number; pending: boolean }[];
}

/** Sends one operation; holds are named by their index among the successful ones (modulo their count). */
async function send(userId: number, op: Op, holds: readonly { id: number }[]) {
  const usd = (minor: number) => (minor / 100).toFixed(2);
  if (op.kind === 'charge')
    return app.inject(chargeRequest({ user_id: userId, amount: usd(op.amount), currency: 'USD' }));
  if (op.kind === 'authorize') return hold(userId, op.amount);
  const target = holds[op.hold % Math.max(holds.length, 1)];
  if (target === undefined) return undefined;
  if (op.kind === 'void') return post(`/authorizations/${target.id}/void`);
  return post(`/authorizations/${target.id}/capture`, op.amount === null ? undefined : { amount: usd(op.amount) });
}

/** The model's answer to one operation, applied to it: the status the server must give. */
function expect(model: Model, op: Op, index: number): number {
  const available = model.balance - model.held;
  if (op.kind === 'charge' || op.kind === 'authorize') {
    if (available < op.amount) return 400;
    if (op.kind === 'charge') model.balance -= op.amount;
    else model.held += op.amount;
    return op.kind === 'charge' ? 200 : 201;
  }
  const h = model.holds[index]!;
  if (!h.pending) return 409;
  const captured = op.kind === 'capture' ? (op.amount ?? h.amount) : 0;
  if (captured > h.amount) return 422;
  h.pending = false;
  model.held -= h.amount;
  model.balance -= captured;
  return 200;
}

describe('charges and holds never overdraw the available balance', () => {
  test('sequentially, every answer is the model’s', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const user = await createUser(app, { USD: 100 });
        const model: Model = { balance: 10_000, held: 0, holds: [] };
        for (const op of ops) {
          const res = await send(user.id, op, model.holds);
          if (res === undefined) continue;
          const index = op.kind === 'capture' || op.kind === 'void' ? op.hold % model.holds.length : -1;
          assert.equal(res.statusCode, expect(model, op, index), `${JSON.stringify(op)}: ${res.body}`);
          if (res.statusCode === 201 && op.kind === 'authorize')
            model.holds.push({ id: res.json().id, amount: op.amount, pending: true });
        }
        assert.deepEqual(await account(user.id), { balance: model.balance, held: model.held });
      }),
      { numRuns: 15 },
    );
  });

  test('concurrently, what succeeded adds up and nothing is overdrawn', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 30 }), async (ops) => {
        const user = await createUser(app, { USD: 100 });
        // Holds first (concurrently), then everything else at once against them.
        const none = Promise.resolve(undefined);
        const first = await Promise.all(ops.map((op) => (op.kind === 'authorize' ? send(user.id, op, []) : none)));
        const holds = first.flatMap((r) =>
          r?.statusCode === 201 ? [r.json<{ id: number; amount_minor: number }>()] : [],
        );
        const rest = await Promise.all(ops.map((op) => (op.kind === 'authorize' ? none : send(user.id, op, holds))));
        let spent = 0;
        const settled = new Set<number>();
        rest.forEach((r, i) => {
          if (r === undefined || r.statusCode !== 200) return;
          if (ops[i]!.kind === 'charge') spent += r.json().transaction.amount_minor;
          else {
            const body = r.json();
            assert.ok(!settled.has(body.id), `hold ${body.id} settled twice`);
            settled.add(body.id);
            spent += body.amount_captured_minor;
          }
        });
        const stillHeld = holds.filter((h) => !settled.has(h.id)).reduce((sum, h) => sum + h.amount_minor, 0);
        const after = await account(user.id);
        assert.deepEqual(after, { balance: 10_000 - spent, held: stillHeld });
        assert.ok(after.held <= after.balance);
      }),
      { numRuns: 15 },
    );
  });
});
