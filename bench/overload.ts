// `npm run bench -- overload [--capacity-seconds 10 --load-seconds 30 --factor 2 ...]` (issue 13): capacity measured
// in this run (closed loop, 64 connections, unique charges), then an open-loop load at factor × capacity, a pause,
// a closed-loop recovery check, and nothing; per second: accepted/s, shed/s, latencies from the scheduled send time,
// server RSS, event-loop delay, /health latency. Then the ledger checks, the targets table, JSON and an SVG chart.
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { log, root } from './infra.ts';
import type { GeneratorReply, PhaseResult, SecondRaw } from './generator-protocol.ts';
import { checkLedger } from './ledger-check.ts';
import { API_KEY, CLIENT, startTarget } from './load-target.ts';
import { overloadTargets, targetsTable } from './overload-targets.ts';
import { startProbes } from './probes.ts';
import { writeResults } from './report.ts';
import { mergeTimeline, phaseTable, summarisePhases, timeChart, timelineTable } from './timeline.ts';
import type { Phase, TimelineRow } from './timeline.ts';

const { values } = parseArgs({
  options: {
    // Long enough for a cold server (JIT, new pool connections) that the capacity phase is not measured low.
    'warmup-seconds': { type: 'string', default: '5' },
    'capacity-seconds': { type: 'string', default: '10' },
    'load-seconds': { type: 'string', default: '30' },
    factor: { type: 'string', default: '2' },
    // The generator drives the bare route (bench/http-baseline.ts) at the load's rate first: 0 skips it.
    'self-check-seconds': { type: 'string', default: '5' },
    // After the load: a pause, then a closed-loop recovery check, then nothing.
    'pause-seconds': { type: 'string', default: '2' },
    'recovery-seconds': { type: 'string', default: '3' },
    'quiet-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    // Connections the open-loop load may use, opened before it (0: opened on demand as answers lag).
    sockets: { type: 'string', default: '4096' },
    pool: { type: 'string', default: '16' },
  },
});
const n = (name: keyof typeof values): number => Number(values[name]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const now = (): number => performance.timeOrigin + performance.now();

const target = await startTarget(n('pool'));
try {
  const { generator } = target;
  const origin = now();
  await generator.send({ kind: 'init', origin, apiKey: API_KEY, users: target.userIds, sockets: n('sockets') });
  const closed = (seconds: number, record = true) =>
    generator.send<PhaseResult>({
      kind: 'closed',
      target: target.url,
      connections: n('connections'),
      seconds,
      record,
    });
  const at = (): number => Math.floor((now() - origin) / 1000);
  const phases: Phase[] = [];
  const phase = async <T>(name: string, work: () => Promise<T>, seconds: number): Promise<T> => {
    const from = at();
    const result = await work();
    phases.push({ name, from, to: Math.max(from + seconds, at()) });
    return result;
  };

  log(`warm-up ${n('warmup-seconds')} s, then capacity: closed loop, ${n('connections')} connections`);
  await closed(n('warmup-seconds'), false);
  const capacityRun = await phase('capacity', () => closed(n('capacity-seconds')), n('capacity-seconds'));
  const capacity = capacityRun.counts.accepted / n('capacity-seconds');
  const rate = Math.round(capacity * n('factor'));
  log(`capacity ${Math.round(capacity)} charges/s; open-loop load at ${rate}/s (${n('factor')} ×)`);

  let selfCheck: PhaseResult | undefined;
  if (n('self-check-seconds') > 0) {
    const bare = await target.baseline();
    log(`self-check: the generator at ${rate}/s against the bare route for ${n('self-check-seconds')} s`);
    selfCheck = await generator.send<PhaseResult>({
      kind: 'open',
      target: bare,
      rate,
      seconds: n('self-check-seconds'),
      record: false,
    });
  }

  if (n('sockets') > 0) {
    log(`opening ${n('sockets')} connections for the open-loop load`);
    await generator.send({ kind: 'warm', target: target.url, sockets: n('sockets') });
  }
  const probes = startProbes(target.url, target.pid, generator.pid, origin);
  await sleep(2000); // two seconds of idle samples: the RSS and loop delay before the load
  phases.push({ name: 'idle', from: at() - 2, to: at() });
  const loadFrom = at();
  const loadStart = now();
  const load = generator.send<PhaseResult>({
    kind: 'open',
    target: target.url,
    rate,
    seconds: n('load-seconds'),
    record: true,
  });
  await sleep(loadStart + n('load-seconds') * 1000 - now());
  const loadStop = now();
  phases.push({ name: `load ${n('factor')}×`, from: loadFrom, to: at() });
  log('load stopped');
  await phase('pause', () => sleep(n('pause-seconds') * 1000), n('pause-seconds'));
  const recovery = await phase('recovery', () => closed(n('recovery-seconds')), n('recovery-seconds'));
  await phase('quiet', () => sleep(n('quiet-seconds') * 1000), n('quiet-seconds'));
  const loadResult = await load;
  const probeSeconds = await probes.stop();
  const report = await generator.send<Extract<GeneratorReply, { kind: 'report' }>>({ kind: 'report' });

  log('checking the ledger (verify, double charges, every accepted key once, nothing for shed keys)');
  const ledger = await checkLedger(target.databaseUrl, CLIENT, report.keys);
  const rows = mergeTimeline(report.seconds, probeSeconds, phases);
  const targets = overloadTargets({
    rows,
    capacity,
    load: loadResult,
    recovery,
    recoverySeconds: n('recovery-seconds'),
    rate,
    loadSeconds: n('load-seconds'),
    drainMs: Math.max(0, loadResult.lastAnswer - loadStop),
    healthMs: probeSeconds.filter((p) => p.second >= loadFrom).flatMap((p) => p.healthMs),
    ledger,
  });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: totalmem() / 2 ** 30 };
  const phaseSummaries = summarisePhases(report.seconds, probeSeconds, phases);
  // The seconds of the self-check and of opening the connections belong to no phase: not printed, not charted.
  const shown = rows.filter((r) => r.phase !== '');
  process.stdout.write(`\n${timelineTable(shown)}\n\n${phaseTable(phaseSummaries)}\n\n${targetsTable(targets)}\n\n`);
  const stamp = `overload-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const generatorCheck = generatorSummary(rate, selfCheck, report.seconds, rows);
  process.stdout.write(`generator: ${generatorCheck.text}\n`);
  const kinds = (r: PhaseResult): string => JSON.stringify(r.errorKinds);
  process.stdout.write(`other answers: load ${kinds(loadResult)}, recovery ${kinds(recovery)}\n`);
  const files = await writeResults(
    path.join(root, 'bench', 'results'),
    stamp,
    {
      date: new Date().toISOString(),
      scenario: 'overload',
      machine: { ...machine, node: process.version },
      options: values,
      serverSettings: target.settings,
      capacity,
      rate,
      phases,
      load: loadResult,
      recovery,
      selfCheck,
      generatorCheck,
      ledger: { ...ledger, violations: ledger.violations.slice(0, 20) },
      targets,
      phaseSummaries,
      timeline: rows,
    },
    chart(
      rows.filter((r) => r.second >= loadFrom - 2),
      phases.filter((p) => p.name !== 'capacity'),
      `PicoPay overload ${stamp.slice(9)}: ${rate}/s open loop (${n('factor')} × ${Math.round(capacity)}/s)`,
    ),
  );
  log(`wrote ${path.relative(root, files.json)} and ${path.relative(root, files.svg)}`);
  process.exitCode = targets.every((t) => t.met) ? 0 : 1;
} finally {
  await target.release();
}

/** Whether the generator kept up: its send lag, its own loop delay and CPU, and the self-check on the bare route. */
function generatorSummary(rate: number, self: PhaseResult | undefined, raw: readonly SecondRaw[], rows: TimelineRow[]) {
  const lags = raw.flatMap((s) => s.sendLagMs).sort((a, b) => a - b);
  const lagP99 = lags[Math.floor(lags.length * 0.99)] ?? null;
  const lagMax = lags.at(-1) ?? null;
  const cpuMax = Math.max(...rows.map((r) => r.generatorCpuPct ?? 0));
  const selfRate = self === undefined ? null : self.sent / n('self-check-seconds');
  const text =
    `send lag p99 ${lagP99?.toFixed(1)} ms, max ${lagMax?.toFixed(1)} ms; generator CPU at most ${cpuMax.toFixed(0)} %` +
    (self === undefined
      ? ''
      : `; self-check on the bare route: ${Math.round(selfRate!)}/s of ${rate}/s sent, p99 ${self.acceptedP99?.toFixed(1)} ms, ${self.counts.error} errors`);
  return { lagP99, lagMax, cpuMaxPct: cpuMax, selfRate, selfP99: self?.acceptedP99 ?? null, text };
}

function chart(rows: readonly TimelineRow[], phases: readonly Phase[], title: string): string {
  const col = (pick: (r: TimelineRow) => number | null) => rows.map(pick);
  return timeChart(
    title,
    rows.map((r) => r.second),
    phases,
    [
      {
        title: 'answers per second',
        series: [
          { name: 'accepted/s', color: '#2a9d55', values: col((r) => r.accepted) },
          { name: 'shed/s (503 overloaded)', color: '#d04a4a', values: col((r) => r.shed) },
          { name: 'outcome_unknown + other/s', color: '#8a5cc2', values: col((r) => r.unknown + r.errors) },
        ],
      },
      {
        title: 'latency from scheduled send, ms (log scale)',
        log: true,
        series: [
          { name: 'accepted p50', color: '#4a7bd0', values: col((r) => r.acceptedP50Ms) },
          { name: 'accepted p99', color: '#1b3f80', values: col((r) => r.acceptedP99Ms) },
          { name: 'shed p99', color: '#d04a4a', values: col((r) => r.shedP99Ms) },
          { name: '/health p99', color: '#e0a020', values: col((r) => r.healthP99Ms) },
        ],
      },
      { title: 'server RSS, MB', series: [{ name: 'RSS', color: '#555', values: col((r) => r.rssMb) }] },
      {
        title: 'server event-loop delay, ms (per-second p99 and max, /metrics)',
        series: [
          { name: 'loop p99', color: '#4a7bd0', values: col((r) => r.loopP99Ms) },
          { name: 'loop max', color: '#d04a4a', values: col((r) => r.loopMaxMs) },
        ],
      },
    ],
  );
}
