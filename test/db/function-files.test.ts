// db/functions/: applied after the versioned migrations, once per change of a file's checksum, in dependency order,
// all or nothing. Checked on a scratch database of its own (the suite's database keeps its functions untouched).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { applyFunctionFiles, inDependencyOrder, loadFunctionFiles } from '../../src/db/function-files.ts';
import { FUNCTIONS_DIR, migrate } from '../../src/db/migrate.ts';
import { DATABASE_URL } from '../helpers/app.ts';

const serverUrl = process.env.TEST_SERVER_URL ?? DATABASE_URL;
const name = `picopay_fn_${process.pid}`;
const url = new URL(serverUrl);
url.pathname = `/${name}`;

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
after(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

test('a fresh database gets every function file; a second migration applies none', async () => {
  const first = await migrate(url.toString());
  assert.ok(first.versioned > 0);
  assert.deepEqual(
    [...first.functions].sort(),
    loadFunctionFiles(FUNCTIONS_DIR)
      .map((f) => f.name)
      .sort(),
  );
  const second = await migrate(url.toString());
  assert.deepEqual({ ...second, appRole: undefined }, { versioned: 0, functions: [], appRole: undefined });
  assert.equal(second.appRole.granted, true, 'the grants are re-applied every time (db/grants.sql)');
});

test('every picopay_ function in the database has its file, and every file its function', async () => {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ proname: string }>(
      "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'picopay\\_%'",
    );
    assert.deepEqual(
      rows.map((r) => r.proname).sort(),
      loadFunctionFiles(FUNCTIONS_DIR)
        .map((f) => f.name)
        .sort(),
    );
  } finally {
    await client.end();
  }
});

test('dependency order: a function comes after the functions it calls', () => {
  const order = inDependencyOrder(loadFunctionFiles(FUNCTIONS_DIR)).map((f) => f.name);
  const before = (a: string, b: string): boolean => order.indexOf(a) < order.indexOf(b);
  assert.ok(before('picopay_json', 'picopay_problem'));
  assert.ok(before('picopay_transaction_json', 'picopay_money_response'));
  assert.ok(before('picopay_charge_batch', 'picopay_charge'));
  assert.throws(
    () =>
      inDependencyOrder([
        { name: 'f_a', sql: 'f_b', checksum: '1' },
        { name: 'f_b', sql: 'f_a', checksum: '2' },
      ]),
    /dependency cycle/,
  );
});

test('a changed file is re-applied alone; a failing file leaves every definition as it was', async () => {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const files = loadFunctionFiles(FUNCTIONS_DIR);
    const json = files.find((f) => f.name === 'picopay_json')!;
    const changed = { ...json, sql: json.sql.replace("'null'", "'null' /* changed */"), checksum: 'changed' };
    const withChange = files.map((f) => (f === json ? changed : f));
    assert.deepEqual(await applyFunctionFiles(client, withChange), ['picopay_json']);
    const definition = async (): Promise<string> =>
      (await client.query<{ d: string }>("SELECT pg_get_functiondef('picopay_json'::regproc) AS d")).rows[0]!.d;
    assert.match(await definition(), /changed/);

    const broken = files.map((f) =>
      f === json
        ? { ...json, checksum: 'broken' }
        : f.name === 'picopay_major'
          ? { ...f, sql: 'CREATE FUNCTION nonsense', checksum: 'x' }
          : f,
    );
    await assert.rejects(applyFunctionFiles(client, broken), /db\/functions\/picopay_major\.sql/);
    assert.match(await definition(), /changed/, 'the transaction rolled back: picopay_json is still the changed one');
    const recorded = await client.query<{ checksum: string }>(
      "SELECT checksum FROM picopay_function_files WHERE name = 'picopay_json'",
    );
    assert.equal(recorded.rows[0]!.checksum, 'changed');
  } finally {
    await client.end();
  }
});
