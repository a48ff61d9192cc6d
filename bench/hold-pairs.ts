// The authorize-capture scenario of `npm run bench`: a hold then a partial capture of it, per pair, over HTTP
// against the compiled server, and the same two SQL functions from pgbench as its baseline.
//
// The capture needs the hold's id from the authorize answer, so a pair is two dependent requests: neither wrk's plan
// (one path, requests independent of answers) nor autocannon's fixed shapes can send it. A closed loop of `fetch`
// calls in the bench process does, one pair in flight per connection; its figures are pairs/s and pair latency.
// The baseline is what the database does for the same pair without HTTP: picopay_authorize then picopay_capture,
// two transactions per pgbench transaction (as the two requests are), so the ratio is HTTP's cost on holds as
// sql-unique's is on charges. Holds are not group-committed (BATCH_* applies to charges), so there is no unbatched
// variant.
import { randomUUID } from 'node:crypto';
import type { Measurement } from './load.ts';
import { pgbenchAvailable, pgbenchBaseline } from './pgbench-baseline.ts';
import type { Row } from './report.ts';

// 0.02 USD held, 0.01 captured (the rest released): capture amounts by exponent 0..4, as the server passes them.
const PGBENCH_PAIR = `\\set uid random(:umin, :umax)
SELECT a.body::json->>'id' AS hold_id FROM (SELECT gen_random_uuid()::text AS k) AS g,
  LATERAL picopay_authorize('bench-sql', g.k, sha256(convert_to('authorize' || g.k, 'UTF8')), :uid, 'USD', 2,
                            3600, NULL, '{}'::jsonb, '30 days'::interval, '1 day'::interval) AS a \\gset
SELECT c.outcome FROM (SELECT gen_random_uuid()::text AS k) AS g,
  LATERAL picopay_capture('bench-sql', g.k, sha256(convert_to('capture' || g.k, 'UTF8')), :hold_id,
                          ARRAY[NULL, NULL, 1, 10, 100]::bigint[], false, '30 days'::interval, '1 day'::interval) AS c;
`;

export interface PairOptions {
  readonly target: string;
  readonly databaseUrl: string;
  readonly apiKey: string;
  readonly users: readonly number[];
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly sqlClients: number;
  readonly log: (message: string) => void;
}

/** The baseline row (when pgbench is on PATH) and the scenario row, its ratio taken against it. */
export async function authorizeCaptureRows(o: PairOptions): Promise<Row[]> {
  const rows: Row[] = [];
  let base: Measurement | undefined;
  if (pgbenchAvailable()) {
    o.log(`baseline sql-authorize-capture: picopay_authorize + picopay_capture in pgbench, ${o.sqlClients} clients`);
    const users = { min: Math.min(...o.users), max: Math.max(...o.users) };
    const run = { clients: o.sqlClients, warmupS: o.warmupS, durationS: o.durationS, users };
    base = await pgbenchBaseline(o.databaseUrl, { ...run, sql: PGBENCH_PAIR });
    const description = 'pairs/s: picopay_authorize + picopay_capture (pgbench)';
    rows.push({ name: 'baseline:sql-authorize-capture', description, baseline: null, ratio: null, ...base });
  } else {
    o.log('pgbench is not on PATH: authorize-capture is reported without a baseline');
  }
  o.log('scenario authorize-capture: hold 0.02, capture 0.01 of it (pairs over HTTP, closed loop in this process)');
  const m = await measurePairs(o);
  rows.push({
    name: 'authorize-capture',
    description: 'pairs/s: POST /authorizations then a partial capture of it',
    baseline: base === undefined ? null : 'sql-authorize-capture',
    ratio: base === undefined ? null : m.rps / base.rps,
    ...m,
  });
  o.log(`  ${Math.round(m.rps)} pairs/s, p50 ${m.p50} ms, p99 ${m.p99} ms, errors ${m.errors}, non-2xx ${m.non2xx}`);
  return rows;
}

async function post(o: PairOptions, path: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(o.target + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': o.apiKey, 'idempotency-key': randomUUID() },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** Warm-up, then the measured window: one pair in flight per connection; latency of the whole pair. */
async function measurePairs(o: PairOptions): Promise<Measurement> {
  const window = async (seconds: number): Promise<Measurement> => {
    const latencies: number[] = [];
    let errors = 0;
    let non2xx = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const user = o.users[Math.floor(Math.random() * o.users.length)]!;
        try {
          const held = await post(o, '/authorizations', `{"user_id":${user},"amount":"0.02","currency":"USD"}`);
          if (held.status !== 201) {
            non2xx++;
            continue;
          }
          const id = (JSON.parse(held.text) as { id: number }).id;
          const captured = await post(o, `/authorizations/${id}/capture`, '{"amount":"0.01"}');
          if (captured.status !== 200) non2xx++;
          else latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: o.connections }, worker));
    const elapsedS = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (p: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    return { rps: latencies.length / elapsedS, p50: at(50), p99: at(99), errors, non2xx };
  };
  if (o.warmupS > 0) await window(o.warmupS);
  return window(o.durationS);
}
