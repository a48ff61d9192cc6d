// `npm run soak -- --minutes N` (issue 13; not in CI): capacity measured first, then an open-loop load at half of it
// for N minutes, with the idempotency retention compressed to a fraction of the run (IDEMPOTENCY_RETENTION) and
// the purge every few seconds. Every --sample-seconds: answers, p99, server RSS, and the table sizes. Then whether
// RSS, p99 and idempotency_keys stayed flat (the first quarter after the warm-up against the last), the ledger
// checks, JSON and an SVG chart in bench/results/.
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { GeneratorReply, PhaseResult } from './generator-protocol.ts';
import { log, root } from './infra.ts';
import { checkLedger } from './ledger-check.ts';
import { API_KEY, CLIENT, startTarget } from './load-target.ts';
import { startProbes, rssMb } from './probes.ts';
import { writeResults } from './report.ts';
import { flatness, soakChart, soakTable, type SoakSample } from './soak-report.ts';
import { percentile } from './timeline.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    factor: { type: 'string', default: '0.5' },
    'capacity-seconds': { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '10' },
    // Default: an eighth of the run (at least 10 s), so the table reaches its floor early in the run.
    'retention-seconds': { type: 'string' },
    'purge-interval-ms': { type: 'string', default: '5000' },
    connections: { type: 'string', default: '64' },
    pool: { type: 'string', default: '16' },
  },
});
const minutes = Number(values.minutes);
const sampleS = Number(values['sample-seconds']);
const retentionS = Number(values['retention-seconds'] ?? Math.max(10, Math.round((minutes * 60) / 8)));
const purgeMs = Number(values['purge-interval-ms']);
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const target = await startTarget(Number(values.pool), {
  IDEMPOTENCY_RETENTION: `${retentionS}s`,
  IDEMPOTENCY_DECLINE_RETENTION: `${retentionS}s`,
  IDEMPOTENCY_PURGE_INTERVAL_MS: String(purgeMs),
});
const db = new pg.Client({ connectionString: target.databaseUrl });
try {
  await db.connect();
  const { generator } = target;
  const origin = now();
  await generator.send({ kind: 'init', origin, apiKey: API_KEY, users: target.userIds, sockets: 0 });
  const closed = (seconds: number) =>
    generator.send<PhaseResult>({
      kind: 'closed',
      target: target.url,
      connections: Number(values.connections),
      seconds,
      record: false,
    });
  await closed(3);
  const capacityS = Number(values['capacity-seconds']);
  const capacity = (await closed(capacityS)).counts.accepted / capacityS;
  const rate = Math.round(capacity * Number(values.factor));
  log(`capacity ${Math.round(capacity)}/s; soak at ${rate}/s for ${minutes} min, retention ${retentionS} s`);

  const probes = startProbes(target.url, target.pid, generator.pid, origin);
  const soakStart = now();
  const load = generator.send<PhaseResult>({
    kind: 'open',
    target: target.url,
    rate,
    seconds: minutes * 60,
    record: true,
    keys: false,
  });
  const samples: SoakSample[] = [];
  for (let next = soakStart + sampleS * 1000; next <= soakStart + minutes * 60_000; next += sampleS * 1000) {
    await sleep(next - now());
    samples.push(await sample(Math.round((next - soakStart) / 1000)));
    const s = samples.at(-1)!;
    log(
      `${s.t} s: ${s.acceptedPerS.toFixed(0)}/s, p99 ${s.p99Ms?.toFixed(1)} ms, RSS ${s.rssMb?.toFixed(0)} MB, ${s.keyRows} keys`,
    );
  }
  const loadResult = await load;
  await probes.stop();
  const report = await generator.send<Extract<GeneratorReply, { kind: 'report' }>>({ kind: 'report' });
  const ledger = await checkLedger(target.databaseUrl, CLIENT, report.keys);
  const warmupS = retentionS + purgeMs / 1000 + sampleS;
  const flat = flatness(samples, warmupS);
  process.stdout.write(`\n${soakTable(samples)}\n\n${flat.table}\n\n`);
  process.stdout.write(
    `ledger: ${ledger.violations.length} verify violations, ${ledger.doubleCharges} keys charged twice\n`,
  );
  const stamp = `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const files = await writeResults(
    path.join(root, 'bench', 'results'),
    stamp,
    {
      date: new Date().toISOString(),
      scenario: 'soak',
      options: values,
      serverSettings: target.settings,
      capacity,
      rate,
      retentionS,
      warmupS,
      load: loadResult,
      flatness: flat.results,
      ledger: { ...ledger, violations: ledger.violations.slice(0, 20) },
      samples,
    },
    soakChart(
      samples,
      warmupS,
      `PicoPay soak ${stamp.slice(5)}: ${rate}/s for ${minutes} min, retention ${retentionS} s`,
    ),
  );
  log(`wrote ${path.relative(root, files.json)} and ${path.relative(root, files.svg)}`);
  process.exitCode =
    flat.results.every((r) => r.flat) && ledger.violations.length === 0 && ledger.doubleCharges === 0 ? 0 : 1;
} finally {
  await db.end().catch(() => {});
  await target.release();
}

/** One sample: the generator's seconds since the last one, RSS now, and the table sizes. */
async function sample(t: number): Promise<SoakSample> {
  const r = await target.generator.send<Extract<GeneratorReply, { kind: 'report' }>>({ kind: 'report', clear: true });
  const accepted = r.seconds.flatMap((s) => s.accepted);
  const span = Math.max(1, r.seconds.length);
  const sizes = await db.query<{ keys: number; entries: number; keys_mb: number }>(
    `SELECT (SELECT count(*) FROM idempotency_keys)::int AS keys, (SELECT count(*) FROM ledger_entries)::int AS entries,
            pg_total_relation_size('idempotency_keys') / 1048576.0 AS keys_mb`,
  );
  const row = sizes.rows[0]!;
  return {
    t,
    acceptedPerS: accepted.length / span,
    shedPerS: r.seconds.reduce((n, s) => n + s.shed.length, 0) / span,
    otherPerS: r.seconds.reduce((n, s) => n + s.unknown.length + s.error.length, 0) / span,
    p50Ms: percentile(accepted, 50),
    p99Ms: percentile(accepted, 99),
    rssMb: rssMb(target.pid),
    keyRows: row.keys,
    ledgerRows: row.entries,
    keysMb: Number(row.keys_mb),
  };
}
