// What `npm run bench:cpu` prints and keeps: one table row per server and scenario, PostgreSQL's top statements and
// sequential scans per scenario, and the same as JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './infra.ts';
import type { Measurement } from './load.ts';
import type { SeqScans, TopStatement } from './pg-stat.ts';
import type { CpuTime } from './proc-cpu.ts';

export interface CpuRow {
  readonly name: string;
  readonly seconds: number;
  readonly measurement: Measurement;
  readonly server: CpuTime;
  /** undefined: no PostgreSQL work on this path (the bare route). */
  readonly postgres?: CpuTime;
  readonly topStatements?: readonly TopStatement[];
  readonly seqScans?: readonly SeqScans[];
}

const perRequest = (row: CpuRow, t: CpuTime): number =>
  ((t.user + t.system) / (row.measurement.rps * row.seconds)) * 1e6;

const fmt = (n: number): string => n.toFixed(1);

export function renderTable(rows: readonly CpuRow[]): string {
  const lines = rows.map((r) => {
    const m = r.measurement;
    const server = `${fmt(perRequest(r, r.server))} (${fmt(perRequest(r, { user: r.server.user, system: 0 }))} + ${fmt(perRequest(r, { user: 0, system: r.server.system }))})`;
    const pg = r.postgres === undefined ? '–' : fmt(perRequest(r, r.postgres));
    const bad = m.errors + m.non2xx;
    return `| ${r.name} | ${Math.round(m.rps).toLocaleString('en-US')} | ${server} | ${pg} | ${m.p99.toFixed(1)} | ${bad} |`;
  });
  return [
    '| run | req/s | server CPU µs/request (user + system) | PostgreSQL CPU µs/request | p99 ms | errors + non-2xx |',
    '|---|--:|--:|--:|--:|--:|',
    ...lines,
  ].join('\n');
}

export function renderPostgres(rows: readonly CpuRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    if (r.seqScans !== undefined) {
      out.push(`\n${r.name}: scans during the run (pg_stat_user_tables, read after the backends flushed them)`);
      for (const s of r.seqScans) {
        out.push(`  ${s.table}: ${s.seqScans} seq scans (${s.seqRowsRead} rows read), ${s.indexScans} index scans`);
      }
    }
    if (r.topStatements !== undefined) {
      out.push(`\n${r.name}: top statements by execution time (pg_stat_statements, nested ones overlap their caller)`);
      out.push('| total ms | calls | mean µs | rows | statement |\n|--:|--:|--:|--:|---|');
      for (const s of r.topStatements) {
        out.push(`| ${s.totalMs} | ${s.calls} | ${s.meanUs} | ${s.rows} | \`${s.query.replaceAll('|', '\\|')}\` |`);
      }
    }
  }
  return out.join('\n');
}

/** Writes the run as JSON under bench/results/ (gitignored) and returns the file's path. */
export function saveJson(rows: readonly CpuRow[], meta: Record<string, unknown>): string {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `cpu-${new Date().toISOString().replaceAll(':', '-')}.json`);
  const runs = rows.map((r) => ({
    ...r,
    serverUsPerRequest: perRequest(r, r.server),
    postgresUsPerRequest: r.postgres === undefined ? null : perRequest(r, r.postgres),
  }));
  writeFileSync(file, `${JSON.stringify({ ...meta, runs }, null, 2)}\n`);
  return file;
}
