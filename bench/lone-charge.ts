// `npx tsx bench/lone-charge.ts [-- --duration 10 --rounds 3 --variants a,b]`: what a lone charge costs in SQL.
// pgbench (16 clients, one new key per transaction) calls, on one fresh database, today's picopay_charge (a one-item
// picopay_charge_batch), the dedicated single-charge function it replaced (claim the key, then a conditional UPDATE
// and the entry: commit 21dd2d5's definition with today's key claim, recreated under bench_* names, SECURITY DEFINER
// with the same settings as picopay_charge so that both pay the same for them), and today's batch with each of the
// two costs that made the lone charge slow put back: the LANGUAGE sql wrapper (parsed and planned on every call) and
// custom plans (every statement of the batch planned on every call). Rounds alternate between the variants so that
// drift on a shared machine shows as noise rather than as a difference. Prints tx/s and p50/p99 per round, then the
// median of each variant.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freshDatabase, log, root, seed } from './infra.ts';
import type { Measurement } from './load.ts';
import { pgbenchAvailable, pgbenchBaseline } from './pgbench-baseline.ts';

const VARIANTS = ['picopay_charge', 'bench_single_charge', 'bench_sql_wrapper', 'bench_custom_plans', 'bench_before'];
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
    variants: { type: 'string', default: VARIANTS.join(',') },
  },
});

const SETTINGS = 'SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp';
const SINGLE_CHARGE = `
CREATE FUNCTION bench_single_debit(p_client text, p_key text, p_user_id bigint, p_currency text, p_amount bigint,
  p_description text, p_metadata jsonb, OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  acct accounts;
  why record;
BEGIN
  UPDATE accounts SET balance = balance - p_amount
   WHERE user_id = p_user_id AND currency = p_currency AND balance >= p_amount
  RETURNING * INTO acct;
  IF NOT FOUND THEN
    SELECT * INTO why FROM picopay_decline(p_user_id, p_currency);
    outcome := 'declined'; status := why.status; code := why.code;
    body := picopay_record_decline(p_client, p_key, why.status, why.code, why.title, why.detail);
    RETURN;
  END IF;
  outcome := 'created'; status := 200;
  body := picopay_post_entry(p_client, p_key, acct, 'charge', -p_amount, p_description, p_metadata,
                             'Charge processed successfully');
END $$;
CREATE FUNCTION bench_single_charge(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_amount bigint, p_description text, p_metadata jsonb, p_retention interval,
  p_decline_retention interval, OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql ${SETTINGS} SET enable_seqscan = off AS $$
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'charge', p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome = 'claimed' THEN
    SELECT d.outcome, d.status, d.code, d.body INTO outcome, status, code, body
      FROM bench_single_debit(p_client, p_key, p_user_id, p_currency, p_amount, p_description, p_metadata) d;
  END IF;
END $$;
`;

const SIGNATURE = `(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint, p_currency text,
  p_amount bigint, p_description text, p_metadata jsonb, p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)`;
const ONE_ITEM = `ARRAY[p_client], ARRAY[p_key], ARRAY[p_fingerprint], ARRAY[p_user_id], ARRAY[p_currency],
  ARRAY[p_amount], ARRAY[p_description], ARRAY[p_metadata], p_retention, p_decline_retention`;
const sqlWrapper = (name: string, batch: string): string =>
  `CREATE FUNCTION ${name}${SIGNATURE} LANGUAGE sql ${SETTINGS} AS $$ SELECT * FROM ${batch}(${ONE_ITEM}) $$;`;
const plpgsqlWrapper = (name: string, batch: string): string =>
  `CREATE FUNCTION ${name}${SIGNATURE} LANGUAGE plpgsql ${SETTINGS} AS $$ BEGIN
     SELECT b.outcome, b.status, b.code, b.body INTO outcome, status, code, body FROM ${batch}(${ONE_ITEM}) b;
   END $$;`;

/** Today's picopay_charge_batch, renamed, planned as PostgreSQL chooses (custom plans for its array parameters). */
async function customPlanBatch(): Promise<string> {
  const file = await readFile(path.join(root, 'db/functions/picopay_charge_batch.sql'), 'utf8');
  const generic = 'SET plan_cache_mode = force_generic_plan\n';
  if (!file.includes(generic)) throw new Error(`picopay_charge_batch.sql no longer says ${generic}`);
  return file
    .replace('CREATE OR REPLACE FUNCTION picopay_charge_batch(', 'CREATE FUNCTION bench_custom_plan_batch(')
    .replace(generic, '');
}

if (!pgbenchAvailable()) throw new Error('pgbench is not on PATH (Debian: postgresql-client)');
const database = await freshDatabase();
try {
  const { userIds } = await seed(database.value, 10_000);
  const db = new pg.Client({ connectionString: database.value });
  await db.connect();
  await db.query(SINGLE_CHARGE);
  await db.query(await customPlanBatch());
  await db.query(sqlWrapper('bench_sql_wrapper', 'picopay_charge_batch'));
  await db.query(plpgsqlWrapper('bench_custom_plans', 'bench_custom_plan_batch'));
  await db.query(sqlWrapper('bench_before', 'bench_custom_plan_batch'));
  await db.end();
  const run = {
    clients: Number(values.clients),
    warmupS: Number(values.warmup),
    durationS: Number(values.duration),
    users: { min: Math.min(...userIds), max: Math.max(...userIds) },
  };
  const chosen = values.variants.split(',');
  const results = new Map<string, Measurement[]>(chosen.map((fn) => [fn, []]));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const fn of chosen) {
      const m = await pgbenchBaseline(database.value, { ...run, fn });
      results.get(fn)!.push(m);
      log(`round ${round} ${fn.padEnd(19)} ${line(m)}`);
    }
  }
  for (const [fn, ms] of results) log(`median  ${fn.padEnd(19)} ${line(median(ms))}`);
} finally {
  await database.release();
}

function line(m: Measurement): string {
  return `${Math.round(m.rps)} tx/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.errors} failed`;
}

/** The round with the median throughput (its latencies with it). */
function median(ms: readonly Measurement[]): Measurement {
  return [...ms].sort((a, b) => a.rps - b.rps)[Math.floor(ms.length / 2)]!;
}
