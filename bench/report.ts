// The bench's outputs: a table on stdout, bench/results/<date>.json and an SVG chart of throughput and p50/p99.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Measurement } from './load.ts';

export interface Row extends Measurement {
  readonly name: string;
  readonly description: string;
  readonly baseline: string | null;
  readonly ratio: number | null;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function table(rows: readonly Row[]): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'vs baseline'];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.rps),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    String(r.errors),
    String(r.non2xx),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)} × ${r.baseline}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    render(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...lines.map(render),
  ].join('\n');
}

export function svg(rows: readonly Row[], title: string): string {
  const width = 900;
  const barArea = 520;
  const rowHeight = 34;
  const height = 70 + rows.length * rowHeight;
  const maxRps = Math.max(...rows.map((r) => r.rps), 1);
  const maxP99 = Math.max(...rows.map((r) => r.p99), 1);
  const bars = rows.map((r, i) => {
    const y = 50 + i * rowHeight;
    const w = Math.max(1, (r.rps / maxRps) * (barArea - 180));
    const p50x = 560 + (r.p50 / maxP99) * 300;
    const p99x = 560 + (r.p99 / maxP99) * 300;
    return [
      `<text x="10" y="${y + 17}" font-size="12">${r.name}</text>`,
      `<rect x="170" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="#4a7bd0"/>`,
      `<text x="${(175 + w).toFixed(1)}" y="${y + 17}" font-size="11">${fmt(r.rps)} req/s</text>`,
      `<line x1="${p50x.toFixed(1)}" y1="${y + 13}" x2="${p99x.toFixed(1)}" y2="${y + 13}" stroke="#999"/>`,
      `<circle cx="${p50x.toFixed(1)}" cy="${y + 13}" r="4" fill="#2a9d55"/>`,
      `<circle cx="${p99x.toFixed(1)}" cy="${y + 13}" r="4" fill="#d04a4a"/>`,
      `<text x="${(p99x + 8).toFixed(1)}" y="${y + 17}" font-size="10">${fmt(r.p50, 1)}/${fmt(r.p99, 1)} ms</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${title}</text>
<text x="170" y="40" font-size="11" fill="#555">throughput (req/s)</text>
<text x="560" y="40" font-size="11" fill="#555">latency: <tspan fill="#2a9d55">p50</tspan> – <tspan fill="#d04a4a">p99</tspan> (ms, scale to max p99 ${fmt(maxP99, 1)})</text>
${bars.join('\n')}
</svg>
`;
}

export async function writeResults(
  dir: string,
  stamp: string,
  data: unknown,
  chart: string,
): Promise<{ json: string; svg: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, `${stamp}.json`);
  const chartPath = path.join(dir, `${stamp}.svg`);
  await writeFile(json, `${JSON.stringify(data, null, 2)}\n`);
  await writeFile(chartPath, chart);
  return { json, svg: chartPath };
}
