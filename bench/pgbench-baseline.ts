// SQL baseline in pgbench: the function PicoPay calls for a lone charge (picopay_charge), one call per charge, from
// pgbench's C client (16 clients by default) — the strongest single-statement reference for what the database can do
// without HTTP, with no Node driver in the way. Falls back to the Node loop (sql-baseline.ts) when pgbench is missing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Measurement } from './load.ts';

// A new key per transaction (gen_random_uuid), its SHA-256 as the fingerprint, a random user of the range, and the
// default retentions (IDEMPOTENCY_RETENTION 30d, IDEMPOTENCY_DECLINE_RETENTION 24h) as the server passes them.
const script = (fn: string): string => `\\set uid random(:umin, :umax)
SELECT c.outcome FROM (SELECT gen_random_uuid()::text AS k) AS g,
  LATERAL ${fn}('bench-sql', g.k, sha256(convert_to(g.k, 'UTF8')), :uid, 'USD', 1, NULL, '{}'::jsonb,
                '30 days'::interval, '1 day'::interval) AS c;
`;

export function pgbenchAvailable(): boolean {
  return spawnSync('pgbench', ['--version']).status === 0;
}

function pgbench(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench exited ${code}: ${out}`))));
  });
}

export interface PgbenchOptions {
  readonly clients: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Users charged: a random id in [min, max] per transaction (min = max: one hot account). */
  readonly users: { readonly min: number; readonly max: number };
  /** The charge function called, with picopay_charge's arguments (default picopay_charge). */
  readonly fn?: string;
  /** A whole pgbench script instead (given :umin and :umax), e.g. bench/hold-pairs.ts's authorize + capture. */
  readonly sql?: string;
}

export async function pgbenchBaseline(databaseUrl: string, options: PgbenchOptions): Promise<Measurement> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picopay-pgbench-'));
  try {
    const file = path.join(dir, 'charge.sql');
    await writeFile(file, options.sql ?? script(options.fn ?? 'picopay_charge'));
    const common = [
      '-n',
      '-M',
      'prepared',
      '-f',
      file,
      '-c',
      String(options.clients),
      '-j',
      '2',
      '-D',
      `umin=${options.users.min}`,
      '-D',
      `umax=${options.users.max}`,
    ];
    if (options.warmupS > 0) await pgbench([...common, '-T', String(options.warmupS), databaseUrl]);
    const out = await pgbench([
      ...common,
      '-T',
      String(options.durationS),
      '-l',
      `--log-prefix=${path.join(dir, 'tx')}`,
      databaseUrl,
    ]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
    const failed = /number of failed transactions: (\d+)/.exec(out);
    if (tps === null) throw new Error(`pgbench printed no tps: ${out}`);
    const latencies = await transactionLatenciesMs(dir);
    const at = (p: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    return { rps: Number(tps[1]), p50: at(50), p99: at(99), errors: Number(failed?.[1] ?? 0), non2xx: 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Per-transaction log lines: client_id transaction_no latency_us script_no epoch_s epoch_us. */
async function transactionLatenciesMs(dir: string): Promise<number[]> {
  const latencies: number[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith('tx')) continue;
    for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
    }
  }
  return latencies.sort((a, b) => a - b);
}
