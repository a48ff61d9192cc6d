// `npm run bench [-- --duration 10 --warmup 3 --connections 64]`: PicoPay against its own baselines, in one run on
// one machine, so every figure is a ratio measured under the same conditions.
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, freshDatabase, log, redisForBench, root, seed, startHttp, type Resource } from './infra.ts';
import { measure, pickGenerator, type Measurement } from './load.ts';
import { svg, table, writeResults, type Row } from './report.ts';
import { BASELINE_HTTP, chargeReplayKeys, scenarios, type ScenarioContext } from './scenarios.ts';
import { sqlBaseline } from './sql-baseline.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    pool: { type: 'string', default: '16' },
    only: { type: 'string' },
    // auto: wrk when it is on PATH (apt-get install wrk), else autocannon.
    generator: { type: 'string', default: 'auto' },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const connections = Number(values.connections);
const poolSize = Number(values.pool);
const generator = pickGenerator(values.generator);
const API_KEY = 'bench_client_key_000000000000000001';

const cleanups: Resource<unknown>[] = [];
async function main(): Promise<void> {
  log(
    `load generator: ${generator === 'wrk' ? 'wrk (2 threads, own process)' : 'autocannon (in the bench process)'}; ${connections} connections, ${warmupS} s warm-up + ${durationS} s per scenario`,
  );
  const database = await freshDatabase();
  cleanups.push(database);
  const redis = await redisForBench();
  cleanups.push(redis);
  const { userIds, hotUser } = await seed(database.value, 10_000);
  log(`seeded ${userIds.length} users and a hot account`);

  // BATCH_* settings given to the bench reach the servers, for tuning group commit against the same baselines.
  const tuning = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => k.startsWith('BATCH_') && v !== undefined),
  ) as Record<string, string>;
  const serverEnv = {
    DATABASE_URL: database.value,
    APP_API_KEYS: `bench:${API_KEY}`,
    RATE_LIMIT_MAX: '0',
    DB_POOL_SIZE: String(poolSize),
    ...tuning,
  };
  const up = await startHttp('src/server.ts', { ...serverEnv, ...(redis.value ? { REDIS_URL: redis.value } : {}) });
  cleanups.push(up);
  const down = await startHttp('src/server.ts', { ...serverEnv, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  cleanups.push(down);
  // Group commit is on by default; this one runs one transaction per charge, for the comparison.
  const unbatched = await startHttp('src/server.ts', {
    ...serverEnv,
    BATCH_ENABLED: 'false',
    ...(redis.value ? { REDIS_URL: redis.value } : {}),
  });
  cleanups.push(unbatched);
  const baseline = await startHttp('bench/http-baseline.ts', {});
  cleanups.push(baseline);

  // Keys charged once up front, then replayed by the replay scenarios (through both servers' caches).
  const replayKeys = Array.from({ length: 20 }, (_, i) => ({
    key: `bench-replay-${Date.now()}-${i}`,
    userId: userIds[i]!,
  }));
  for (const target of [up.value, down.value]) await chargeReplayKeys(target, API_KEY, replayKeys);

  const ctx: ScenarioContext = { apiKey: API_KEY, users: userIds, hotUser, replayKeys };
  const baselines: Record<string, Measurement> = {};
  const pickUser = (): number => userIds[Math.floor(Math.random() * userIds.length)]!;
  const sqlOptions = { poolSize, inFlight: connections, warmupMs: warmupS * 1000, durationMs: durationS * 1000 };
  log('baseline sql-unique: picopay_charge() from a Node loop, random users');
  baselines['sql-unique'] = await sqlBaseline(database.value, { ...sqlOptions, pickUser });
  log('baseline sql-hot: picopay_charge() from a Node loop, one account');
  baselines['sql-hot'] = await sqlBaseline(database.value, { ...sqlOptions, pickUser: () => hotUser });
  // The servers cached their plans while the tables were nearly empty (seeding, replay keys); the baselines have
  // just added tens of thousands of charges. Fresh statistics make every connection re-plan for tables of this
  // size, as autovacuum would in production within its next round (a cached seq-scan plan on idempotency_keys made
  // lone group-committed charges 8 ms instead of 1 ms).
  await analyze(database.value);
  log('baseline http: bare Fastify route returning a constant');
  baselines.http = await measure(generator, baseline.value, connections, warmupS, durationS, BASELINE_HTTP);

  const rows: Row[] = Object.entries(baselines).map(([name, m]) => ({
    name: `baseline:${name}`,
    description: 'baseline',
    baseline: null,
    ratio: null,
    ...m,
  }));
  for (const scenario of scenarios(ctx)) {
    if (values.only !== undefined && !scenario.name.includes(values.only)) continue;
    log(`scenario ${scenario.name}: ${scenario.description}`);
    const target = scenario.server === 'unbatched' ? unbatched.value : scenario.redis === 'up' ? up.value : down.value;
    const m = await measure(generator, target, connections, warmupS, durationS, scenario);
    const base = baselines[scenario.baseline]!;
    rows.push({
      name: scenario.name,
      description: scenario.description,
      baseline: scenario.baseline,
      ratio: m.rps / base.rps,
      ...m,
    });
    log(`  ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, errors ${m.errors}, non-2xx ${m.non2xx}`);
  }
  log('low load: one connection, unique charges (p50 of a lone request)');
  for (const [name, target] of [
    ['unique-1-connection', up.value],
    ['unique-1-connection-unbatched', unbatched.value],
  ] as const) {
    const lone = await measure(generator, target, 1, 1, Math.max(3, Math.round(durationS / 2)), scenarios(ctx)[0]!);
    rows.push({
      name,
      description: 'unique charges, 1 connection',
      baseline: 'sql-unique',
      ratio: lone.rps / baselines['sql-unique'].rps,
      ...lone,
    });
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const printed = table(rows);
  process.stdout.write(`\n${printed}\n\n`);
  const files = await writeResults(
    path.join(root, 'bench', 'results'),
    stamp,
    {
      date: new Date().toISOString(),
      loadGenerator: generator,
      connections,
      warmupS,
      durationS,
      poolSize,
      machine,
      postgres: await serverVersion(database.value),
      redis: redis.value === undefined ? 'none' : 'local',
      rows,
    },
    svg(rows, `PicoPay bench ${stamp} — ${machine.cpus} cores, ${connections} connections, ${generator}`),
  );
  log(`wrote ${path.relative(root, files.json)} and ${path.relative(root, files.svg)}`);
}

async function analyze(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('ANALYZE');
  await c.end();
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const r = await c.query<{ server_version: string }>('SHOW server_version');
  await c.end();
  return r.rows[0]!.server_version;
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c.release().catch((e: unknown) => log(`cleanup: ${String(e)}`));
}
