// The soak's outputs: the samples as a table, the flatness verdicts (first quarter after the warm-up against the
// last), and an SVG chart over time (bench/timeline.ts's panels).
import { timeChart } from './timeline.ts';

export interface SoakSample {
  /** Seconds since the soak's load started. */
  readonly t: number;
  readonly acceptedPerS: number;
  readonly shedPerS: number;
  readonly otherPerS: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly rssMb: number | null;
  readonly keyRows: number;
  readonly ledgerRows: number;
  readonly keysMb: number;
}

export interface FlatResult {
  readonly measure: string;
  readonly first: number;
  readonly last: number;
  readonly rule: string;
  readonly flat: boolean;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f = (n: number | null, d = 0): string => (n === null ? '—' : n.toFixed(d));

/**
 * After the warm-up (one retention, one purge interval and a sample: the table fills up to its floor then), the
 * samples split in quarters; flat means the last quarter's mean is within the rule of the first's. The ledger grows
 * by design (entries are never purged) and is reported, not judged.
 */
export function flatness(samples: readonly SoakSample[], warmupS: number) {
  const steady = samples.filter((s) => s.t > warmupS);
  const q = Math.max(1, Math.floor(steady.length / 4));
  const first = steady.slice(0, q);
  const last = steady.slice(-q);
  const m = (xs: readonly SoakSample[], pick: (s: SoakSample) => number | null): number =>
    mean(xs.map(pick).filter((v): v is number => v !== null));
  const rss = { first: m(first, (s) => s.rssMb), last: m(last, (s) => s.rssMb) };
  const p99 = { first: m(first, (s) => s.p99Ms), last: m(last, (s) => s.p99Ms) };
  const keys = { first: m(first, (s) => s.keyRows), last: m(last, (s) => s.keyRows) };
  const size = { first: m(first, (s) => s.keysMb), last: m(last, (s) => s.keysMb) };
  const results: FlatResult[] = [
    {
      measure: 'server RSS, MB',
      ...rss,
      rule: '+10 % or +20 MB at most',
      flat: rss.last - rss.first <= Math.max(0.1 * rss.first, 20),
    },
    { measure: 'p99 accepted, ms', ...p99, rule: '× 1.5 + 5 ms at most', flat: p99.last <= 1.5 * p99.first + 5 },
    { measure: 'idempotency_keys rows', ...keys, rule: '+10 % at most', flat: keys.last <= 1.1 * keys.first },
    // On disk, deleted rows are reused only once autovacuum has passed: a looser rule, and a long run to judge it.
    { measure: 'idempotency_keys size, MB', ...size, rule: '+25 % at most', flat: size.last <= 1.25 * size.first },
  ];
  const lines = results.map(
    (r) => `| ${r.measure} | ${f(r.first, 1)} | ${f(r.last, 1)} | ${r.rule} | ${r.flat ? 'FLAT' : 'GROWING'} |`,
  );
  const table = [
    `| measure (${q} samples each, after ${warmupS} s) | first quarter | last quarter | rule | |`,
    '|---|--:|--:|---|---|',
    ...lines,
  ].join('\n');
  return { results, table };
}

export function soakTable(samples: readonly SoakSample[]): string {
  const header =
    '| t s | ok/s | shed/s | other/s | p50 ms | p99 ms | RSS MB | idempotency_keys | MB | ledger_entries |';
  const rows = samples.map(
    (s) =>
      `| ${s.t} | ${f(s.acceptedPerS)} | ${f(s.shedPerS)} | ${f(s.otherPerS)} | ${f(s.p50Ms, 1)} | ${f(s.p99Ms, 1)} | ` +
      `${f(s.rssMb)} | ${s.keyRows} | ${f(s.keysMb, 1)} | ${s.ledgerRows} |`,
  );
  return [header, '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|', ...rows].join('\n');
}

export function soakChart(samples: readonly SoakSample[], warmupS: number, title: string): string {
  const seconds = samples.map((s) => s.t);
  const end = seconds.at(-1) ?? 1;
  const phases = [
    { name: 'warm-up (table filling)', from: 0, to: Math.min(warmupS, end) },
    { name: 'steady state', from: Math.min(warmupS, end), to: end },
  ];
  const col = (pick: (s: SoakSample) => number | null) => samples.map(pick);
  return timeChart(title, seconds, phases, [
    {
      title: 'answers per second',
      series: [
        { name: 'accepted/s', color: '#2a9d55', values: col((s) => s.acceptedPerS) },
        { name: 'shed + other/s', color: '#d04a4a', values: col((s) => s.shedPerS + s.otherPerS) },
      ],
    },
    {
      title: 'accepted latency, ms',
      series: [
        { name: 'p50', color: '#4a7bd0', values: col((s) => s.p50Ms) },
        { name: 'p99', color: '#1b3f80', values: col((s) => s.p99Ms) },
      ],
    },
    { title: 'server RSS, MB', series: [{ name: 'RSS', color: '#555', values: col((s) => s.rssMb) }] },
    {
      title: 'idempotency_keys rows (flat after the retention) and ledger_entries / 10 (grows: never purged)',
      series: [
        { name: 'idempotency_keys', color: '#d04a4a', values: col((s) => s.keyRows) },
        { name: 'ledger_entries / 10', color: '#888', values: col((s) => s.ledgerRows / 10) },
      ],
    },
  ]);
}
