// The database-role modes of start-up (openDatabase), on this test's own embedded cluster (roles are cluster-wide,
// so they are never created on a shared server): the production two-URL setup with the application role as a real
// login, and a single-URL owner that may not create roles, which keeps working as before and says so.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from '../helpers/processes.ts';
import { KEYS } from '../helpers/app.ts';

const root = path.resolve(import.meta.dirname, '../..');
const port = await freePort();
const dataDir = path.join(root, '.test-data', `roles-${port}`);
const cluster = await startEmbeddedPostgres({
  dataDir,
  port,
  database: 'postgres',
  log: () => {},
  postgresFlags: ['-c', 'fsync=off'],
});
const superuser = new pg.Client({ connectionString: cluster.url });
await superuser.connect();
after(async () => {
  await superuser.end();
  await cluster.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const urlAs = (user: string, database: string): string => {
  const url = new URL(cluster.url);
  url.username = user;
  url.password = 'pw';
  url.pathname = `/${database}`;
  return url.toString();
};

/** A database owned by a fresh login that is neither superuser nor allowed to create roles. */
async function ownedDatabase(name: string): Promise<string> {
  await superuser.query(`CREATE ROLE ${name}_owner LOGIN PASSWORD 'pw' NOSUPERUSER NOCREATEROLE`);
  await superuser.query(`CREATE DATABASE ${name} OWNER ${name}_owner`);
  return urlAs(`${name}_owner`, name);
}

const baseEnv = {
  APP_API_KEYS: `checkout:${KEYS.checkout}`,
  APP_ADMIN_API_KEYS: `ops:${KEYS.admin}`,
  LOG_LEVEL: 'silent',
  RATE_LIMIT_MAX: '0',
  BATCH_ENABLED: process.env.BATCH_ENABLED ?? '',
};

/** Creates a user and charges it through a full app: every money and read path as the chosen role. */
async function chargeThrough(env: Record<string, string>, sessionRole: string | null): Promise<void> {
  const config = loadConfig({ ...baseEnv, ...env });
  const app = await buildApp({ config, databaseUrl: config.databaseUrl!, sessionRole });
  try {
    const headers = { 'x-api-key': KEYS.admin, 'content-type': 'application/json' };
    const user = await app.inject({ method: 'POST', url: '/users', headers, payload: '{"balances":{"USD":10}}' });
    assert.equal(user.statusCode, 201, user.body);
    const id = user.json().id;
    const charge = await app.inject({
      method: 'POST',
      url: '/charge',
      headers: { ...headers, 'idempotency-key': `roles-${id}` },
      payload: JSON.stringify({ user_id: id, amount: '2.50', currency: 'USD' }),
    });
    assert.equal(charge.statusCode, 200, charge.body);
    const history = await app.inject({ method: 'GET', url: `/users/${id}/transactions`, headers });
    assert.equal(history.statusCode, 200, history.body);
    assert.equal(history.json().data.length, 2);
  } finally {
    await app.close();
  }
}

test('two URLs: migrations as the owner, the server logs in as picopay_app itself and can only do its job', async () => {
  const owner = await ownedDatabase('two_urls');
  await superuser.query(`CREATE ROLE picopay_app LOGIN PASSWORD 'pw'`);
  const appUrl = urlAs('picopay_app', 'two_urls');
  const env = { DATABASE_URL: appUrl, DATABASE_MIGRATION_URL: owner };
  const lines: string[] = [];
  const database = await openDatabase(loadConfig({ ...baseEnv, ...env }), (line) => lines.push(line));
  assert.equal(database.sessionRole, null, "DATABASE_URL's login is used as it is");
  assert.equal(database.ownerUrl, owner, 'verify reads as the owner');
  const roleLines = lines.filter((l) => l.includes('database roles'));
  assert.deepEqual(roleLines, [
    "database roles: migrations as two_urls_owner (DATABASE_MIGRATION_URL), grants to role picopay_app; server sessions as DATABASE_URL's login",
  ]);
  await chargeThrough(env, database.sessionRole);

  const app = new pg.Client({ connectionString: appUrl });
  await app.connect();
  try {
    // A real login has nothing to RESET ROLE to: still picopay_app, still refused.
    await app.query('RESET ROLE');
    assert.equal((await app.query('SELECT current_user AS u')).rows[0].u, 'picopay_app');
    for (const sql of [
      'UPDATE accounts SET balance = balance + 1',
      'DELETE FROM idempotency_keys',
      'ALTER TABLE ledger_entries DISABLE TRIGGER ALL',
    ])
      await assert.rejects(app.query(sql), { code: '42501' }, sql);
  } finally {
    await app.end();
  }
});

test('one URL whose login may not create roles: keeps working as that login, with one WARNING line', async () => {
  // A fresh cluster-wide name: the role must be missing for this case.
  const owner = await ownedDatabase('no_createrole');
  const env = { DATABASE_URL: owner, DATABASE_APP_ROLE: 'picopay_missing' };
  const lines: string[] = [];
  const database = await openDatabase(loadConfig({ ...baseEnv, ...env }), (line) => lines.push(line));
  assert.equal(database.sessionRole, null);
  const roleLines = lines.filter((l) => l.includes('database roles'));
  assert.equal(roleLines.length, 1);
  assert.match(
    roleLines[0]!,
    /^WARNING: database roles: no_createrole_owner cannot create or switch to role picopay_missing/,
  );
  await chargeThrough(env, database.sessionRole);
});

test('one URL whose login has CREATEROLE: it creates the role, joins it and switches its sessions to it', async () => {
  await superuser.query(`CREATE ROLE creator LOGIN PASSWORD 'pw' NOSUPERUSER CREATEROLE`);
  await superuser.query('CREATE DATABASE with_createrole OWNER creator');
  const env = { DATABASE_URL: urlAs('creator', 'with_createrole'), DATABASE_APP_ROLE: 'picopay_created' };
  const lines: string[] = [];
  const database = await openDatabase(loadConfig({ ...baseEnv, ...env }), (line) => lines.push(line));
  assert.equal(database.sessionRole, 'picopay_created', lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('server sessions SET ROLE picopay_created')));
  await chargeThrough(env, database.sessionRole);
});
