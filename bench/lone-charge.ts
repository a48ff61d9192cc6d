// `npx tsx bench/lone-charge.ts [-- --duration 10 --rounds 3]`: the measurement behind "a lone charge is a batch of
// one". pgbench calls, on one fresh database, today's picopay_charge (a one-item picopay_charge_batch) and the
// dedicated single-charge function it replaced (claim the key, then a conditional UPDATE and the entry; the
// definition of commit 21dd2d5 with today's key claim and its retentions, recreated here under bench_* names with the
// same plan setting), alternating rounds so that drift on a shared machine shows as noise rather than as a
// difference. Prints tx/s and p50/p99 per round.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freshDatabase, log, seed } from './infra.ts';
import { pgbenchAvailable, pgbenchBaseline } from './pgbench-baseline.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
  },
});

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
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'charge', p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome = 'claimed' THEN
    SELECT d.outcome, d.status, d.code, d.body INTO outcome, status, code, body
      FROM bench_single_debit(p_client, p_key, p_user_id, p_currency, p_amount, p_description, p_metadata) d;
  END IF;
END $$;
`;

if (!pgbenchAvailable()) throw new Error('pgbench is not on PATH (Debian: postgresql-client)');
const database = await freshDatabase();
try {
  const { userIds } = await seed(database.value, 10_000);
  const db = new pg.Client({ connectionString: database.value });
  await db.connect();
  await db.query(SINGLE_CHARGE);
  await db.end();
  const run = {
    clients: Number(values.clients),
    warmupS: Number(values.warmup),
    durationS: Number(values.duration),
    users: { min: Math.min(...userIds), max: Math.max(...userIds) },
  };
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const fn of ['picopay_charge', 'bench_single_charge']) {
      const m = await pgbenchBaseline(database.value, { ...run, fn });
      log(
        `round ${round} ${fn.padEnd(19)} ${Math.round(m.rps)} tx/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.errors} failed`,
      );
    }
  }
} finally {
  await database.release();
}
