// `npm run verify` as operators run it: against a live database, exit code and report.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';

const root = path.resolve(import.meta.dirname, '../..');
const serverUrl = process.env.TEST_SERVER_URL ?? '';

function runVerify(databaseUrl: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/verify.ts')], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('verify passes on a consistent ledger and reports a tampered balance with exit code 2', async () => {
  const name = `picopay_verify_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    await migrate(url.toString());
    await db.connect();
    const user = await db.query(
      `SELECT picopay_create_user('v', '[{"currency":"USD","exponent":2,"amount":500}]')::json->>'id' AS id`,
    );
    const ok = runVerify(url.toString());
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /verify: OK — \d+ checks passed over 1 accounts, 1 ledger entries/);

    await db.query('UPDATE accounts SET balance = balance + 1 WHERE user_id = $1', [user.rows[0].id]);
    const bad = runVerify(url.toString());
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /verify: FAILED — 1 violation/);
    assert.match(
      bad.stdout,
      /balance_equals_entries: .*\n\s+account \d+ \(user \d+, USD\): balance 501, entries sum 500/,
    );
  } finally {
    await db.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
