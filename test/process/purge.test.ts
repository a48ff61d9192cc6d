// `picopay purge` as an operator (or a cron job) runs it: deletes the records older than IDEMPOTENCY_RETENTION and
// keeps the younger; junk in the variable stops it before it touches anything, naming the variable.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATABASE_URL, newKey, sql } from '../helpers/app.ts';

const root = path.resolve(import.meta.dirname, '../..');
const db = sql();

async function purge(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const bin = spawn(process.execPath, [path.join(root, 'bin/picopay.mjs'), 'purge'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  bin.stdout.on('data', (c: Buffer) => (output += c.toString()));
  bin.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(bin, 'exit')) as [number | null];
  return { code, output };
}

/** A recorded decline (no ledger entry), created `minutes` ago. */
async function record(minutes: number): Promise<string> {
  const key = newKey();
  await db.query(
    `INSERT INTO idempotency_keys (client, key, operation, fingerprint, response_status, response_code, response_body,
                                   created_at)
     VALUES ('purge-test', $1, 'charge', '\\x00', 400, 'insufficient_balance', '{}', now() - make_interval(mins => $2))`,
    [key, minutes],
  );
  return key;
}

test('picopay purge deletes the expired records and keeps the younger ones', { timeout: 180_000 }, async () => {
  const old = [await record(61), await record(600)];
  const young = [await record(59), await record(0)];
  const { code, output } = await purge({ IDEMPOTENCY_RETENTION: '1h', IDEMPOTENCY_PURGE_BATCH: '1' });
  assert.equal(code, 0, output);
  assert.match(output, /purge: deleted \d+ expired idempotency records/);
  const { rows } = await db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [
    [...old, ...young],
  ]);
  assert.deepEqual(rows.map((r) => r.key).sort(), [...young].sort());
});

test('picopay purge refuses a retention it cannot read, naming the variable', { timeout: 180_000 }, async () => {
  const key = await record(600);
  const { code, output } = await purge({ IDEMPOTENCY_RETENTION: '30 days' });
  assert.equal(code, 1, output);
  assert.match(output, /IDEMPOTENCY_RETENTION must be a duration/);
  const { rowCount } = await db.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key]);
  assert.equal(rowCount, 1, 'nothing deleted');
  await db.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
});
