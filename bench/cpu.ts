// `npm run bench:cpu [-- unique] [replays] [--seconds 10] [--profile DIR] [--pg-stat]`: CPU time per request of the
// server and of PostgreSQL, read from /proc around one load run per scenario (default: replays). Throughput moves
// with whatever else the machine does; CPU per request is what each side itself spends.
// - unique: new charges over funded users, on a fresh, never-analyzed database (no ANALYZE: what a new deployment
//   runs), PostgreSQL CPU summed over the cluster's postmaster and its children, plus pg_stat_statements' top
//   statements and the charge tables' sequential scans.
// - replays: PicoPay's cache-hit replay against the bare Fastify route (server CPU only for the bare route).
// Without DATABASE_URL the bench owns its cluster (embedded PostgreSQL, pg_stat_statements preloaded, nothing else
// running on it); with it, the whole cluster's CPU counts, whoever else uses it. --pg-stat makes top statements
// required (fails when the server does not preload pg_stat_statements). With --profile, PicoPay runs under
// `node --cpu-prof` and its profile lands in DIR at exit: `npx tsx bench/profile-summary.ts DIR/<file>`.
import { parseArgs } from 'node:util';
import { renderPostgres, renderTable, saveJson, type CpuRow } from './cpu-report.ts';
import { freshDatabase, log, PICOPAY, redisForBench, seed, startHttp, type Resource } from './infra.ts';
import { measure, pickGenerator, type LoadPlan } from './load.ts';
import {
  enablePgStatStatements,
  resetPgStatStatements,
  seqScanDelta,
  seqScans,
  settleTableStats,
  topStatements,
} from './pg-stat.ts';
import { clusterDelta, clusterSnapshot, postmasterPid, processCpu } from './proc-cpu.ts';
import { BASELINE_HTTP, chargeReplayKeys, scenarios } from './scenarios.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    users: { type: 'string', default: '10000' },
    generator: { type: 'string', default: 'auto' },
    profile: { type: 'string' },
    'pg-stat': { type: 'boolean', default: false },
  },
});
const KNOWN = ['unique', 'replays'];
const wanted = positionals.length === 0 ? ['replays'] : positionals;
for (const w of wanted) if (!KNOWN.includes(w)) throw new Error(`unknown scenario ${w} (known: ${KNOWN.join(', ')})`);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const generator = pickGenerator(values.generator);
const API_KEY = 'bench_client_key_000000000000000001';
// The bench-owned cluster preloads pg_stat_statements; track=all shows the statements inside PL/pgSQL functions.
const PG_FLAGS = ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'];

interface Target {
  readonly server: { value: string; child: { pid?: number } };
  readonly databaseUrl?: string;
  readonly postmaster?: number;
  readonly pgStat: boolean;
}

/** One warm-up, then the measured run with CPU (and, on PicoPay, PostgreSQL's counters) read around it. */
async function cpuRun(name: string, target: Target, plan: LoadPlan): Promise<CpuRow> {
  log(`${name}: ${warmup} s warm-up, then ${seconds} s with ${generator}, ${connections} connections`);
  if (warmup > 0) await measure(generator, target.server.value, connections, 0, warmup, plan);
  const url = target.databaseUrl;
  const scansBefore = url === undefined ? undefined : await settleTableStats().then(() => seqScans(url));
  if (url !== undefined && target.pgStat) await resetPgStatStatements(url);
  const pgBefore = target.postmaster === undefined ? undefined : clusterSnapshot(target.postmaster);
  const before = processCpu(target.server.child.pid!);
  const measurement = await measure(generator, target.server.value, connections, 0, seconds, plan);
  const after = processCpu(target.server.child.pid!);
  const pgAfter = target.postmaster === undefined ? undefined : clusterSnapshot(target.postmaster);
  // Statements first: the settling wait below would add the background jobs' statements to them.
  const top = url !== undefined && target.pgStat ? await topStatements(url) : undefined;
  const scansAfter = url === undefined ? undefined : await settleTableStats().then(() => seqScans(url));
  return {
    name,
    seconds,
    measurement,
    server: { user: after.user - before.user, system: after.system - before.system },
    ...(pgBefore && pgAfter ? { postgres: clusterDelta(pgBefore, pgAfter) } : {}),
    ...(scansBefore && scansAfter ? { seqScans: seqScanDelta(scansBefore, scansAfter) } : {}),
    ...(top ? { topStatements: top } : {}),
  };
}

async function pgStatAvailable(url: string): Promise<boolean> {
  const enabled = await enablePgStatStatements(url);
  if (enabled.ok) return true;
  if (values['pg-stat']) {
    throw new Error(
      `--pg-stat: ${enabled.reason}. Preload it on that server, or run without DATABASE_URL (the bench's own cluster preloads it)`,
    );
  }
  log(`no top statements: ${enabled.reason}`);
  return false;
}

const cleanups: Resource<unknown>[] = [];
try {
  const database = await freshDatabase(PG_FLAGS);
  cleanups.push(database);
  const pgStat = await pgStatAvailable(database.value);
  const postmaster = await postmasterPid(database.value);
  if (process.env.DATABASE_URL) log(`PostgreSQL CPU is the whole cluster's (postmaster ${postmaster}), anyone's load`);
  const redis = await redisForBench();
  cleanups.push(redis);
  const { userIds, hotUser } = await seed(database.value, Number(values.users));
  const env = {
    DATABASE_URL: database.value,
    APP_API_KEYS: `bench:${API_KEY}`,
    RATE_LIMIT_MAX: '0',
    DB_POOL_SIZE: '16',
    ...(redis.value ? { REDIS_URL: redis.value } : {}),
  };
  const profiling = values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`];
  const picopay = await startHttp(PICOPAY, env, profiling);
  cleanups.push(picopay);
  const onPicopay: Target = { server: picopay, databaseUrl: database.value, postmaster, pgStat };
  const replayKeys = userIds.slice(0, 20).map((userId, i) => ({ key: `cpu-replay-${Date.now()}-${i}`, userId }));
  const all = scenarios({ apiKey: API_KEY, users: userIds, hotUser, replayKeys });
  const rows: CpuRow[] = [];
  if (wanted.includes('unique')) {
    rows.push(
      await cpuRun(
        'PicoPay unique charges',
        onPicopay,
        all.find((s) => s.name === 'unique')!,
      ),
    );
  }
  if (wanted.includes('replays')) {
    const bare = await startHttp('bench/http-baseline.ts', {});
    cleanups.push(bare);
    rows.push(await cpuRun('bare Fastify route (baseline:http)', { server: bare, pgStat: false }, BASELINE_HTTP));
    await chargeReplayKeys(picopay.value, API_KEY, replayKeys);
    rows.push(
      await cpuRun(
        'PicoPay cache-hit replay',
        onPicopay,
        all.find((s) => s.name === 'replays')!,
      ),
    );
  }
  process.stdout.write(`\n${renderTable(rows)}\n${renderPostgres(rows)}\n\n`);
  const file = saveJson(rows, { generator, connections, seconds, warmup, users: userIds.length, postmaster });
  log(`results in ${file}`);
} finally {
  for (const c of cleanups.reverse()) await c.release().catch((e: unknown) => log(`cleanup: ${String(e)}`));
}
