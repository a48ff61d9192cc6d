// Charges stay fast as tables grow: every statement on the money path finds its rows through an index, whatever the
// table statistics say. A never-analyzed database (autovacuum off for these tables, as when it lags) serves money
// operations while idempotency_keys grows from nothing to 20,000 rows under the same pooled connections, whose cached
// plans were made when the tables were empty; pg_stat_user_tables must then show no sequential scan of
// idempotency_keys or accounts.
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { chargeRequest, DATABASE_URL, KEYS, startApp } from '../helpers/app.ts';

const serverUrl = process.env.TEST_SERVER_URL ?? DATABASE_URL;
const name = `picopay_plans_${process.pid}`;
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
await migrate(url.toString());
const db = new pg.Client({ connectionString: url.toString() });
await db.connect();
after(async () => {
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

const WATCHED = ['idempotency_keys', 'accounts', 'users', 'ledger_entries', 'charge_refund_totals', 'authorizations'];

async function seqScans(): Promise<Record<string, number>> {
  const { rows } = await db.query<{ relname: string; seq_scan: string }>(
    'SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY($1)',
    [WATCHED],
  );
  return Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)]));
}

/** Users with 1,000.00 USD, seeded in SQL (opening balances as credit entries, like POST /users writes them). */
async function seedUsers(count: number): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH u AS (INSERT INTO users (name) SELECT 'plans' FROM generate_series(1, $1) RETURNING id),
          a AS (INSERT INTO accounts (user_id, currency, exponent, balance) SELECT id, 'USD', 2, 100000 FROM u
                RETURNING id, user_id)
     INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, description)
     SELECT id, user_id, 'credit', 100000, 100000, 'Opening balance' FROM a RETURNING user_id AS id`,
    [count],
  );
  return rows.map((r) => Number(r.id));
}

/** A hold, then its capture (even rounds) or void (odd rounds): the hold functions' statements. */
async function holdAndSettle(app: FastifyInstance, userId: number, round: number): Promise<void> {
  const post = (path: string, payload: object) =>
    app.inject({
      method: 'POST',
      url: path,
      headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
      payload,
    });
  const held = await post('/authorizations', { user_id: userId, amount: '0.10', currency: 'USD' });
  assert.equal(held.statusCode, 201, held.body);
  const id = held.json<{ id: number }>().id;
  const settled = await post(`/authorizations/${id}/${round % 2 === 0 ? 'capture' : 'void'}`, {});
  assert.equal(settled.statusCode, 200, settled.body);
}

test(
  'no sequential scan of idempotency_keys or accounts on the money path as a never-analyzed table grows',
  { timeout: 180_000 },
  async () => {
    for (const table of WATCHED) await db.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    const users = await seedUsers(50);
    const before = await seqScans();
    // One pool for the whole test: its connections keep the plans they made while the tables were empty.
    const { app } = await startApp({ DATABASE_URL: url.toString(), DB_POOL_SIZE: '2' });
    const money = async (round: number): Promise<void> => {
      for (const [i, userId] of users.entries()) {
        const key = randomUUID();
        const charged = await app.inject(
          chargeRequest({ user_id: userId, amount: '1.00', currency: 'USD' }, key, KEYS.checkout),
        );
        assert.equal(charged.statusCode, 200, charged.body);
        assert.equal(
          (await app.inject(chargeRequest({ user_id: userId, amount: '1.00', currency: 'USD' }, key, KEYS.checkout)))
            .statusCode,
          200,
        );
        const declined = await app.inject(
          chargeRequest({ user_id: userId, amount: '1000000', currency: 'USD' }, randomUUID(), KEYS.checkout),
        );
        assert.equal(declined.statusCode, 400, declined.body);
        if (i % 5 === round % 5) {
          const refund = await app.inject({
            method: 'POST',
            url: `/charges/${charged.json().transaction.id}/refunds`,
            headers: {
              'x-api-key': KEYS.checkout,
              'idempotency-key': randomUUID(),
              'content-type': 'application/json',
            },
            payload: { amount: '0.50' },
          });
          assert.equal(refund.statusCode, 200, refund.body);
          const credit = await app.inject({
            method: 'POST',
            url: `/users/${userId}/credits`,
            headers: { 'x-api-key': KEYS.admin, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
            payload: { amount: '0.25', currency: 'USD' },
          });
          assert.equal(credit.statusCode, 200, credit.body);
          await holdAndSettle(app, userId, round);
        }
      }
    };
    await money(0);
    await money(1);
    // The table grows behind the pool's back (another client's traffic, in bulk), with no ANALYZE.
    await db.query(
      `INSERT INTO idempotency_keys (client, key, operation, fingerprint, response_status, response_code, response_body)
     SELECT 'growth', 'k' || g, 'charge', sha256(g::text::bytea), 400, 'insufficient_balance', '{}'
       FROM generate_series(1, 20000) g`,
    );
    await money(2);
    await money(3);
    await app.close(); // the pool's backends exit, which flushes their statistics
    const afterwards = await seqScans();
    const scans = Object.fromEntries(WATCHED.map((t) => [t, (afterwards[t] ?? 0) - (before[t] ?? 0)]));
    const { rows } = await db.query<{ reltuples: number }>(
      "SELECT reltuples FROM pg_class WHERE relname = 'idempotency_keys'",
    );
    assert.equal(rows[0]!.reltuples, -1, 'idempotency_keys was never analyzed');
    assert.equal(scans.idempotency_keys, 0, `sequential scans: ${JSON.stringify(scans)}`);
    assert.equal(scans.accounts, 0, `sequential scans: ${JSON.stringify(scans)}`);
    assert.equal(scans.authorizations, 0, `sequential scans: ${JSON.stringify(scans)}`);
  },
);
