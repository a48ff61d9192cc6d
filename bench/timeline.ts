// The overload and soak benches' per-second timeline: the generator's samples and the probes' merged by second,
// printed as a table and drawn as an SVG chart over time (stacked panels, phases shaded), in the style of
// bench/report.ts's chart.
import type { SecondRaw } from './generator-protocol.ts';
import type { ProbeSecond } from './probes.ts';

export interface Phase {
  readonly name: string;
  /** Seconds since the timeline's origin: [from, to). */
  readonly from: number;
  readonly to: number;
}

export interface TimelineRow {
  readonly second: number;
  readonly phase: string;
  readonly sent: number;
  readonly accepted: number;
  readonly shed: number;
  readonly unknown: number;
  readonly errors: number;
  readonly acceptedP50Ms: number | null;
  readonly acceptedP99Ms: number | null;
  readonly shedP99Ms: number | null;
  readonly sendLagP99Ms: number | null;
  readonly generatorLoopMaxMs: number | null;
  readonly rssMb: number | null;
  readonly loopP99Ms: number | null;
  readonly loopMaxMs: number | null;
  readonly healthP99Ms: number | null;
  readonly serverCpuPct: number | null;
  readonly generatorCpuPct: number | null;
}

export const percentile = (values: readonly number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

export function mergeTimeline(gen: readonly SecondRaw[], probes: readonly ProbeSecond[], phases: readonly Phase[]) {
  const byGen = new Map(gen.map((g) => [g.second, g]));
  const byProbe = new Map(probes.map((p) => [p.second, p]));
  const first = Math.min(...phases.map((p) => p.from));
  const last = Math.max(...phases.map((p) => p.to));
  const rows: TimelineRow[] = [];
  for (let s = first; s < last; s++) {
    const g = byGen.get(s);
    const p = byProbe.get(s);
    rows.push({
      second: s,
      phase: phases.find((ph) => s >= ph.from && s < ph.to)?.name ?? '',
      sent: g?.sent ?? 0,
      accepted: g?.accepted.length ?? 0,
      shed: g?.shed.length ?? 0,
      unknown: g?.unknown.length ?? 0,
      errors: g?.error.length ?? 0,
      acceptedP50Ms: percentile(g?.accepted ?? [], 50),
      acceptedP99Ms: percentile(g?.accepted ?? [], 99),
      shedP99Ms: percentile(g?.shed ?? [], 99),
      sendLagP99Ms: percentile(g?.sendLagMs ?? [], 99),
      generatorLoopMaxMs: g?.loopMaxMs ?? null,
      rssMb: p?.rssMb ?? null,
      loopP99Ms: p?.loopP99Ms ?? null,
      loopMaxMs: p?.loopMaxMs ?? null,
      healthP99Ms: percentile(p?.healthMs ?? [], 99),
      serverCpuPct: p?.serverCpuPct ?? null,
      generatorCpuPct: p?.generatorCpuPct ?? null,
    });
  }
  return rows;
}

const f = (n: number | null, digits = 0): string => (n === null ? '—' : Number.isFinite(n) ? n.toFixed(digits) : '∞');

export function timelineTable(rows: readonly TimelineRow[]): string {
  const header = ['s', 'phase', 'sent', 'ok/s', 'shed/s', 'unknown', 'other', 'ok p50', 'ok p99', 'shed p99'];
  header.push('lag p99', 'RSS MB', 'loop p99', 'loop max', 'health p99', 'srv CPU', 'gen CPU');
  const lines = rows.map((r) => [
    String(r.second),
    r.phase,
    String(r.sent),
    String(r.accepted),
    String(r.shed),
    String(r.unknown),
    String(r.errors),
    f(r.acceptedP50Ms, 1),
    f(r.acceptedP99Ms, 1),
    f(r.shedP99Ms, 1),
    f(r.sendLagP99Ms, 1),
    f(r.rssMb),
    f(r.loopP99Ms, 1),
    f(r.loopMaxMs, 1),
    f(r.healthP99Ms, 1),
    f(r.serverCpuPct),
    f(r.generatorCpuPct),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)].join('\n');
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  /** Log scale (latencies spanning 1 ms to seconds). */
  readonly log?: boolean;
}

const PHASE_FILL = ['#eef3fb', '#fbeeee', '#eefbf1', '#f7f7f7', '#fbf6e8'];

/** Stacked line panels over the same seconds, phases shaded behind them. */
export function timeChart(title: string, seconds: readonly number[], phases: readonly Phase[], panels: Panel[]) {
  const width = 960;
  const left = 70;
  const plotW = width - left - 180;
  const panelH = 150;
  const gap = 40;
  const height = 50 + panels.length * (panelH + gap);
  const x0 = seconds[0] ?? 0;
  const span = Math.max(1, (seconds.at(-1) ?? 1) - x0);
  const x = (s: number): number => left + ((s - x0) / span) * plotW;
  const out: string[] = [];
  panels.forEach((panel, i) => {
    const top = 50 + i * (panelH + gap);
    const all = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const lo = panel.log ? Math.max(0.1, Math.min(...all, 1)) : 0;
    const hi = Math.max(...all, panel.log ? 10 : 1);
    const y = (v: number): number => {
      const t = panel.log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi;
      return top + panelH - t * panelH;
    };
    phases.forEach((ph, k) => {
      const a = x(Math.max(ph.from, x0));
      const b = x(Math.min(ph.to, x0 + span));
      out.push(`<rect x="${a.toFixed(1)}" y="${top}" width="${Math.max(0, b - a).toFixed(1)}" height="${panelH}"`);
      out.push(` fill="${PHASE_FILL[k % PHASE_FILL.length]}"/>`);
      if (i === 0) out.push(`<text x="${(a + 3).toFixed(1)}" y="${top - 4}" font-size="10">${ph.name}</text>`);
    });
    out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${panelH}" fill="none" stroke="#aaa"/>`);
    out.push(`<text x="${left}" y="${top + panelH + 14}" font-size="11" fill="#333">${panel.title}</text>`);
    const ticks = panel.log ? [lo, Math.sqrt(lo * hi), hi] : [0, hi / 2, hi];
    for (const t of ticks)
      out.push(`<text x="${left - 5}" y="${y(t) + 4}" font-size="9" text-anchor="end">${f(t, t < 10 ? 1 : 0)}</text>`);
    panel.series.forEach((s, k) => {
      const pts = s.values
        .map((v, j) => (v === null || !Number.isFinite(v) ? null : `${x(seconds[j]!).toFixed(1)},${y(v).toFixed(1)}`))
        .filter((p) => p !== null);
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
      const ly = top + 14 + k * 16;
      out.push(`<rect x="${left + plotW + 12}" y="${ly - 9}" width="12" height="3" fill="${s.color}"/>`);
      out.push(`<text x="${left + plotW + 30}" y="${ly - 4}" font-size="11">${s.name}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${title}</text>
<text x="${left}" y="40" font-size="10" fill="#555">seconds since the load generator started (x axis)</text>
${out.join('\n')}
</svg>
`;
}

export interface PhaseSummary {
  readonly phase: string;
  readonly seconds: number;
  readonly sent: number;
  readonly acceptedPerS: number;
  readonly shedPerS: number;
  readonly unknown: number;
  readonly errors: number;
  readonly acceptedP50Ms: number | null;
  readonly acceptedP99Ms: number | null;
  readonly shedP99Ms: number | null;
  readonly rssMaxMb: number | null;
  readonly loopMaxMs: number | null;
  readonly healthP99Ms: number | null;
}

/** One line per phase, percentiles over all of the phase's answers (by the second they arrived). */
export function summarisePhases(gen: readonly SecondRaw[], probes: readonly ProbeSecond[], phases: readonly Phase[]) {
  return phases.map((ph): PhaseSummary => {
    const inPhase = <T extends { second: number }>(xs: readonly T[]): T[] =>
      xs.filter((x) => x.second >= ph.from && x.second < ph.to);
    const g = inPhase(gen);
    const p = inPhase(probes);
    const seconds = Math.max(1, ph.to - ph.from);
    const all = (pick: (s: SecondRaw) => number[]): number[] => g.flatMap(pick);
    const max = (xs: (number | null)[]): number | null => {
      const ok = xs.filter((x): x is number => x !== null);
      return ok.length === 0 ? null : Math.max(...ok);
    };
    return {
      phase: ph.name,
      seconds,
      sent: g.reduce((n, s) => n + s.sent, 0),
      acceptedPerS: all((s) => s.accepted).length / seconds,
      shedPerS: all((s) => s.shed).length / seconds,
      unknown: all((s) => s.unknown).length,
      errors: all((s) => s.error).length,
      acceptedP50Ms: percentile(
        all((s) => s.accepted),
        50,
      ),
      acceptedP99Ms: percentile(
        all((s) => s.accepted),
        99,
      ),
      shedP99Ms: percentile(
        all((s) => s.shed),
        99,
      ),
      rssMaxMb: max(p.map((s) => s.rssMb)),
      loopMaxMs: max(p.map((s) => s.loopMaxMs)),
      healthP99Ms: percentile(
        p.flatMap((s) => s.healthMs),
        99,
      ),
    };
  });
}

export function phaseTable(summaries: readonly PhaseSummary[]): string {
  const header =
    '| phase | s | sent | ok/s | shed/s | unknown | other | ok p50 | ok p99 | shed p99 | RSS max | loop max | health p99 |';
  const rows = summaries.map(
    (s) =>
      `| ${s.phase} | ${s.seconds} | ${s.sent} | ${f(s.acceptedPerS)} | ${f(s.shedPerS)} | ${s.unknown} | ${s.errors} | ` +
      `${f(s.acceptedP50Ms, 1)} | ${f(s.acceptedP99Ms, 1)} | ${f(s.shedP99Ms, 1)} | ${f(s.rssMaxMb)} | ` +
      `${f(s.loopMaxMs, 1)} | ${f(s.healthP99Ms, 1)} |`,
  );
  return [header, '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|', ...rows].join('\n');
}
