// One load run: fixed connections, a warm-up that is thrown away, then the measured window. wrk (C, its own
// process) when it is on PATH, else autocannon in the bench's own process; the result says which was used.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { RequestShape } from './scenarios.ts';

export interface Measurement {
  readonly rps: number;
  readonly p50: number; // ms
  readonly p99: number; // ms
  readonly errors: number;
  readonly non2xx: number;
}

export type Generator = 'wrk' | 'autocannon';

export interface LoadPlan {
  /** Builds one request; called per request by autocannon, or PLAN_SIZE times up front for wrk. */
  next(): RequestShape;
  /** Fresh keys must never repeat: wrk suffixes them per run, thread and lap. Fixed keys are replayed as written. */
  readonly keys: 'fresh' | 'fixed';
}

const PLAN_SIZE = 20_000;

export function pickGenerator(wanted: string): Generator {
  if (wanted === 'autocannon' || wanted === 'wrk') return wanted;
  return spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon';
}

function runAutocannon(
  url: string,
  connections: number,
  seconds: number,
  next: () => RequestShape,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, duration: seconds, requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }] },
      (error, r) =>
        error
          ? reject(error)
          : resolve({
              rps: r.requests.average,
              p50: r.latency.p50,
              p99: r.latency.p99,
              errors: r.errors + r.timeouts,
              non2xx: r.non2xx,
            }),
    );
  });
}

interface WrkResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: number;
  p50_us: number;
  p99_us: number;
}

let runs = 0;
async function runWrk(url: string, connections: number, seconds: number, plan: LoadPlan): Promise<Measurement> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picopay-wrk-'));
  try {
    const shapes = Array.from({ length: PLAN_SIZE }, () => plan.next());
    const first = shapes[0]!;
    const lines = [
      first.path,
      first.headers['x-api-key'] ?? '',
      plan.keys,
      ...shapes.map((s) => `${s.headers['idempotency-key'] ?? ''}\t${s.body ?? ''}`),
    ];
    const file = path.join(dir, 'plan.txt');
    await writeFile(file, `${lines.join('\n')}\n`);
    const script = path.join(import.meta.dirname, 'wrk.lua');
    // One thread: on a 2-core machine the single-threaded server keeps a core of its own.
    const threads = 1;
    const args = [
      '-t',
      String(threads),
      '-c',
      String(connections),
      '-d',
      `${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      url,
      '--',
      file,
      `${process.pid}r${++runs}`,
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (line === undefined) throw new Error(`wrk printed no result: ${out}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length)) as WrkResult;
    return {
      rps: r.requests / (r.duration_us / 1e6),
      p50: r.p50_us / 1000,
      p99: r.p99_us / 1000,
      errors: r.connect + r.read + r.write + r.timeout,
      non2xx: r.status,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function measure(
  generator: Generator,
  url: string,
  connections: number,
  warmupS: number,
  durationS: number,
  plan: LoadPlan,
): Promise<Measurement> {
  const once = (seconds: number): Promise<Measurement> =>
    generator === 'wrk'
      ? runWrk(url, connections, seconds, plan)
      : runAutocannon(url, connections, seconds, () => plan.next());
  if (warmupS > 0) await once(warmupS);
  return once(durationS);
}
