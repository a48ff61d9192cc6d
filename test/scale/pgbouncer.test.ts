// PgBouncer in transaction pooling mode (the Debian package, 1.18: no protocol-level prepared statements there).
// PicoPay runs through it with DB_PREPARED_STATEMENTS=false, migrations going direct (DATABASE_MIGRATION_URL) and the
// lock/statement bounds set as database defaults (PgBouncer drops them as startup parameters). The charge suite's
// concurrency cases, a refund and replays must behave exactly as with a direct connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  CLIENT_KEY,
  assertConserved,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  newKey,
  post,
  startServer,
  summary,
  type ServerProcess,
} from '../reliability/harness.ts';
import { pgbouncerSkipReason, pgbouncerVersion, startPgBouncer, type PgBouncer } from './pgbouncer-fixture.ts';
import { createScaleDb, type ScaleDb } from './scale-db.ts';

const skip = pgbouncerSkipReason();
const LOCK_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 10_000;
const serverEnv = (bouncer: PgBouncer, db: ScaleDb): Record<string, string> => ({
  DATABASE_URL: bouncer.url,
  DATABASE_MIGRATION_URL: db.url,
  DB_PREPARED_STATEMENTS: 'false',
  DB_POOL_SIZE: '20', // four times PgBouncer's server pool: connections really are shared
  DB_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
  DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  MEMORY_CACHE_ENTRIES: '0', // no Redis either: every replay is answered by PostgreSQL, through PgBouncer
});

describe(`PgBouncer, pool_mode = transaction`, { skip }, () => {
  let db: ScaleDb;
  let bouncer: PgBouncer;
  let server: ServerProcess;

  before(async () => {
    db = await createScaleDb('pgbouncer');
  });
  after(async () => {
    await server?.stop();
    await bouncer?.stop();
    if (db !== undefined) {
      await assertLedgerInvariants(db.url);
      await db.drop();
    }
  });

  test(`named prepared statements break through it (${skip === undefined ? pgbouncerVersion() : 'n/a'}): why DB_PREPARED_STATEMENTS exists`, async () => {
    bouncer = await startPgBouncer(db.url);
    const a = new pg.Client({ connectionString: bouncer.oneConnectionUrl });
    const b = new pg.Client({ connectionString: bouncer.oneConnectionUrl });
    await a.connect();
    await b.connect();
    try {
      await a.query({ name: 'picopay_probe', text: 'SELECT 1' });
      // b never prepared it, but shares a's server connection: PostgreSQL sees a second Parse of the same name.
      await assert.rejects(b.query({ name: 'picopay_probe', text: 'SELECT 1' }), { code: '42P05' });
      await b.query({ text: 'SELECT 1' }); // unnamed statements are fine
    } finally {
      await a.end();
      await b.end();
    }
  });

  test('start-up refuses a server with unbounded lock waits (the timeouts were dropped and no default replaced them)', async () => {
    await db.query(`ALTER DATABASE ${db.name} SET lock_timeout = 0`);
    await assert.rejects(
      startServer(serverEnv(bouncer, db)),
      /database server has no lock_timeout[^\n]*unbounded waits/,
    );
    // The bounds as an operator sets them: database (or role) defaults, applied to every new server connection.
    await db.query(`ALTER DATABASE ${db.name} SET lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
    await db.query(`ALTER DATABASE ${db.name} SET statement_timeout = '${STATEMENT_TIMEOUT_MS}ms'`);
    await db.query(`ALTER DATABASE ${db.name} SET idle_in_transaction_session_timeout = '${STATEMENT_TIMEOUT_MS}ms'`);
    await bouncer.stop(); // server connections opened before the ALTER keep the old values
    bouncer = await startPgBouncer(db.url);
    server = await startServer(serverEnv(bouncer, db));
    assert.doesNotMatch(server.output(), /warning: database server/, 'the server-side bounds match the configuration');
    const ready = await (await fetch(`${server.url}/ready`)).json();
    assert.equal(ready.postgres, 'up');
  });

  test('50 concurrent same-key charges → one ledger row, one debit; only 200/409', async () => {
    const userId = await createFundedUser(server.url, '100.00');
    const key = newKey();
    const replies = await inParallel(50, 50, () => charge(server.url, userId, '1.00', key));
    const byStatus = countBy(replies, (r) => r.status);
    const ok = replies.filter((r) => r.status === 200);
    summary('scale pgbouncer same-key', { requests: 50, byStatus, executed: ok.filter((r) => !r.replayed).length });
    assert.deepEqual(
      Object.keys(byStatus).filter((s) => s !== '200' && s !== '409'),
      [],
      'only 200 or 409',
    );
    assert.equal(ok.filter((r) => !r.replayed).length, 1, 'exactly one request executed');
    assert.equal(new Set(ok.map((r) => r.body)).size, 1, 'one body');
    const truth = await assertConserved(userId, 10_000, new Set([key]), 100, db.url);
    assert.equal(truth.chargeEntries, 1);
  });

  test('200 concurrent distinct charges with money for 120 → exactly 120 succeed, balance 0', async () => {
    const userId = await createFundedUser(server.url, '120.00');
    const keys = Array.from({ length: 200 }, newKey);
    const replies = await inParallel(keys.length, 200, (i) => charge(server.url, userId, '1.00', keys[i]!));
    const byStatus = countBy(replies, (r) => r.status);
    summary('scale pgbouncer overdraft', { requests: 200, funded: 120, byStatus });
    assert.deepEqual(byStatus, { 200: 120, 400: 80 });
    const succeeded = new Set(keys.filter((_, i) => replies[i]!.status === 200));
    const truth = await assertConserved(userId, 12_000, succeeded, 100, db.url);
    assert.equal(truth.balanceMinor, 0);
    const backends = await db.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db.name],
    );
    assert.ok(
      backends.rows[0].n <= bouncer.poolSize + 1,
      `${backends.rows[0].n} server connections for 20 client connections`,
    );
  });

  test('a refund and replays of the charge and the refund, answered through PgBouncer', async () => {
    const userId = await createFundedUser(server.url, '50.00');
    const chargeKey = newKey();
    const charged = await charge(server.url, userId, '20.00', chargeKey);
    assert.equal(charged.status, 200, charged.body);
    const chargeId = JSON.parse(charged.body).transaction.id;
    const replay = await charge(server.url, userId, '20.00', chargeKey);
    assert.deepEqual([replay.status, replay.replayed, replay.body], [200, true, charged.body]);

    const refundKey = newKey();
    const refunded = await post(server.url, `/charges/${chargeId}/refunds`, { amount: '5.00' }, refundKey);
    assert.equal(refunded.status, 200, refunded.body);
    assert.equal(JSON.parse(refunded.body).new_balance_minor, 3500);
    const again = await post(server.url, `/charges/${chargeId}/refunds`, { amount: '5.00' }, refundKey);
    assert.deepEqual([again.status, again.replayed, again.body], [200, true, refunded.body]);
    const read = await fetch(`${server.url}/charges/${chargeId}`, { headers: { 'x-api-key': CLIENT_KEY } });
    assert.equal((await read.json()).amount_refunded_minor, 500);
  });

  test('a lock wait is still bounded: a key held elsewhere answers 409 after lock_timeout (the database default)', async () => {
    const key = newKey();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO idempotency_keys (client, key, operation, fingerprint) VALUES ('shop', $1, 'charge', '\\x00')`,
        [key],
      );
      const started = performance.now();
      const reply = await charge(server.url, 1, '1.00', key);
      const ms = performance.now() - started;
      assert.equal(reply.status, 409, reply.body);
      assert.equal(JSON.parse(reply.body).code, 'idempotency_key_in_use');
      assert.ok(ms >= LOCK_TIMEOUT_MS * 0.9 && ms < LOCK_TIMEOUT_MS + 3000, `answered after ${Math.round(ms)} ms`);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  test("PgBouncer's own failure (query_wait_timeout, SQLSTATE 08P01) is a 503 with Retry-After, not a 500", async () => {
    // One server connection, held by a transaction; a charge then waits in PgBouncer's queue for 1 s and is refused.
    const narrow = await startPgBouncer(db.url, 1, 1);
    const holder = new pg.Client({ connectionString: narrow.url });
    let narrowServer: ServerProcess | undefined;
    try {
      narrowServer = await startServer({ ...serverEnv(narrow, db), DB_POOL_SIZE: '2' });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT 1');
      const reply = await charge(narrowServer.url, 1, '1.00', newKey());
      assert.equal(reply.status, 503, reply.body);
      assert.equal(JSON.parse(reply.body).code, 'database_unavailable');
      assert.equal(reply.retryAfter, '1');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end().catch(() => {});
      await narrowServer?.stop();
      await narrow.stop();
    }
  });
});
