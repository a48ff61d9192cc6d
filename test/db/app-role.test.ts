// The application role (DATABASE_APP_ROLE, default picopay_app) that the server's sessions run as: it can call the
// money functions and read what the read endpoints show, and nothing else. Every forbidden statement fails with
// SQLSTATE 42501, whatever the table: no balance changed without a ledger row, no stored reply rewritten, no guard
// trigger disabled. The test run's login is a superuser, so these sessions switch to the role as single-URL mode does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import Fastify from 'fastify';
import { configuredSessionRole, ConfigError, loadConfig } from '../../src/config.ts';
import { applyGrants } from '../../src/db/grants.ts';
import { withSessionRole } from '../../src/db/pool.ts';
import { createServices } from '../../src/services.ts';
import { DATABASE_URL, sql } from '../helpers/app.ts';

const ROLE = 'picopay_app';
const owner = sql();

async function asApp(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: withSessionRole(DATABASE_URL, ROLE) });
  await client.connect();
  after(() => client.end());
  return client;
}

async function refused(client: pg.Client, statement: string): Promise<void> {
  await assert.rejects(client.query(statement), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, '42501', `${statement}: ${error.message}`);
    return true;
  });
}

// Every table of the schema, found rather than listed, so a table added later is covered too.
const tables = (
  await owner.query<{ name: string; col: string }>(
    `SELECT c.relname AS name, (SELECT attname FROM pg_attribute
                                   WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped AND attidentity = ''
                                     AND attgenerated = '' ORDER BY attnum LIMIT 1) AS col
       FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      ORDER BY 1`,
  )
).rows;

test('the sessions really run as the application role', async () => {
  const app = await asApp();
  const { rows } = await app.query('SELECT current_user AS role, session_user AS login');
  assert.equal(rows[0].role, ROLE);
  for (const t of ['ledger_entries', 'accounts', 'idempotency_keys', 'charge_refund_totals'])
    assert.ok(
      tables.some((x) => x.name === t),
      `${t} is among the tables tried`,
    );
});

test('as the application role, UPDATE, DELETE, TRUNCATE and INSERT fail with 42501 on every table', async () => {
  const app = await asApp();
  for (const { name, col } of tables) {
    await refused(app, `UPDATE ${name} SET ${col} = ${col}`);
    await refused(app, `DELETE FROM ${name}`);
    await refused(app, `TRUNCATE ${name}`);
    await refused(app, `INSERT INTO ${name} DEFAULT VALUES`);
  }
  // A balance changed without a ledger row, a stored reply rewritten: the two attacks the grants exist for.
  await refused(app, 'UPDATE accounts SET balance = balance + 100000');
  await refused(app, `UPDATE idempotency_keys SET response_body = '{"forged":true}'`);
  await refused(
    app,
    `INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after) VALUES (1, 1, 'credit', 1, 1)`,
  );
});

test('as the application role, ALTER TABLE … DISABLE TRIGGER (the append-only guard) fails with 42501', async () => {
  const app = await asApp();
  await refused(app, 'ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only');
  await refused(app, 'ALTER TABLE ledger_entries DISABLE TRIGGER ALL');
  await refused(app, 'ALTER TABLE charge_refund_totals DISABLE TRIGGER ALL');
  await refused(app, 'DROP TRIGGER ledger_entries_append_only ON ledger_entries');
  await refused(app, 'DROP FUNCTION picopay_forbid_change() CASCADE');
  const { rows } = await owner.query(`SELECT tgenabled FROM pg_trigger WHERE tgname = 'ledger_entries_append_only'`);
  assert.equal(rows[0].tgenabled, 'O', 'the guard is still enabled');
});

test('the application role executes exactly the entry points and renderers, and reads only what GETs show', async () => {
  const { rows } = await owner.query<{ name: string; allowed: boolean }>(
    `SELECT p.proname AS name, has_function_privilege($1, p.oid, 'EXECUTE') AS allowed
       FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE 'picopay\\_%'`,
    [ROLE],
  );
  const allowed = rows
    .filter((r) => r.allowed)
    .map((r) => r.name)
    .sort();
  assert.deepEqual(allowed, [
    'picopay_authorization_json',
    'picopay_authorize',
    'picopay_capture',
    'picopay_charge',
    'picopay_charge_batch',
    'picopay_create_user',
    'picopay_credit',
    'picopay_entry_json',
    'picopay_expire_holds',
    'picopay_json',
    'picopay_major',
    'picopay_purge_events',
    'picopay_purge_keys',
    'picopay_redacted',
    'picopay_refund',
    'picopay_sequence_events',
    'picopay_timestamp',
    'picopay_transaction_json',
    'picopay_user_json',
    'picopay_void',
    'picopay_webhook_claim',
    'picopay_webhook_create',
    'picopay_webhook_delete',
    'picopay_webhook_purge_attempts',
    'picopay_webhook_record',
    'picopay_webhook_record_delivered',
    'picopay_webhook_release',
  ]);
  const app = await asApp();
  // The helpers that write (as the owner, inside the entry points) cannot be called directly.
  await refused(app, 'SELECT picopay_post_entry(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)');
  await refused(app, 'SELECT * FROM picopay_claim_key(NULL, NULL, NULL, NULL, NULL, NULL)');
  await refused(app, 'SELECT count(*) FROM idempotency_keys');
  await refused(app, 'SELECT count(*) FROM charge_refund_totals');
  // A webhook endpoint's signing secret: only the relay's claim (SECURITY DEFINER) returns it.
  await refused(app, 'SELECT secret FROM webhook_endpoints');
  await app.query('SELECT e.url, a.status FROM webhook_endpoints e, webhook_attempts a WHERE false');
  await app.query('SELECT count(*) FROM users, accounts, ledger_entries WHERE false');
});

test('every entry point is SECURITY DEFINER with a pinned search_path (pg_temp last)', async () => {
  const { rows } = await owner.query<{ name: string; definer: boolean; config: string[] | null }>(
    `SELECT proname AS name, prosecdef AS definer, proconfig AS config FROM pg_proc
      WHERE pronamespace = current_schema()::regnamespace
        AND proname IN ('picopay_charge', 'picopay_charge_batch', 'picopay_credit', 'picopay_refund', 'picopay_create_user',
                        'picopay_purge_keys', 'picopay_authorize', 'picopay_capture', 'picopay_void', 'picopay_expire_holds',
                        'picopay_sequence_events', 'picopay_purge_events', 'picopay_webhook_create', 'picopay_webhook_delete',
                        'picopay_webhook_claim', 'picopay_webhook_record', 'picopay_webhook_record_delivered',
                        'picopay_webhook_release', 'picopay_webhook_purge_attempts')`,
  );
  assert.equal(rows.length, 19);
  for (const r of rows) {
    assert.ok(r.definer, `${r.name} is SECURITY DEFINER`);
    assert.ok(r.config?.includes('search_path=pg_catalog, public, pg_temp'), `${r.name}: ${r.config}`);
  }
});

test("a temporary table named like PicoPay's cannot capture an entry point's writes", async () => {
  const app = await asApp();
  // Without the pinned search_path, pg_temp would be searched first and the INSERT would land here.
  await app.query('CREATE TEMP TABLE users (id bigint, name text, created_at timestamptz)');
  const { rows } = await app.query<{ json: string }>(`SELECT picopay_create_user('temp-table probe', '[]') AS json`);
  const id = (JSON.parse(rows[0]!.json) as { id: number }).id;
  const real = await owner.query('SELECT name FROM public.users WHERE id = $1', [id]);
  assert.equal(real.rows[0]?.name, 'temp-table probe');
  assert.equal((await app.query('SELECT count(*)::int AS n FROM pg_temp.users')).rows[0].n, 0);
});

test("the server's pool runs as the application role in single-URL mode, as DATABASE_URL's login with two URLs", async () => {
  const log = Fastify({ logger: false }).log; // silent
  const single = loadConfig({ DATABASE_URL, LOG_LEVEL: 'silent' });
  const two = loadConfig({ DATABASE_URL, DATABASE_MIGRATION_URL: DATABASE_URL, LOG_LEVEL: 'silent' });
  assert.equal(configuredSessionRole(single), ROLE);
  assert.equal(configuredSessionRole(two), null);
  const login = (await owner.query('SELECT current_user AS u')).rows[0].u;
  for (const [config, expected] of [
    [single, ROLE],
    [two, login],
  ] as const) {
    const services = createServices(
      config,
      { url: DATABASE_URL, sessionRole: configuredSessionRole(config) },
      '0',
      log,
    );
    try {
      const { rows } = await services.deps.db.query('SELECT current_user AS u');
      assert.equal(rows[0].u, expected);
    } finally {
      await services.close();
    }
  }
});

test('re-applying the grants is idempotent and reports the role usable for a superuser login', async () => {
  const client = await owner.connect();
  try {
    for (let i = 0; i < 2; i++) {
      const state = await applyGrants(client, ROLE);
      assert.deepEqual(
        { ...state, login: undefined },
        { name: ROLE, granted: true, switchable: true, login: undefined },
      );
    }
  } finally {
    client.release();
  }
});

test('DATABASE_APP_ROLE must be a plain lower-case identifier', () => {
  assert.equal(loadConfig({ DATABASE_APP_ROLE: 'payments_app' }).databaseAppRole, 'payments_app');
  for (const bad of ['Picopay', 'app; DROP TABLE users', 'a-b', '1app'])
    assert.throws(() => loadConfig({ DATABASE_APP_ROLE: bad }), ConfigError);
});
