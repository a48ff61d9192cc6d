// `npm run bench [-- --duration 10 --warmup 3 --connections 64]`: PicoPay against its own baselines, in one run on
// one machine, so every figure is a ratio measured under the same conditions.
// `npm run bench -- overload [options]`: the overload scenario instead (bench/overload.ts, issue 13).
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, freshDatabase, log, PICOPAY, redisForBench, root, seed, startHttp, type Resource } from './infra.ts';
import { measure, pickGenerator, type Measurement } from './load.ts';
import { svg, table, writeResults, type Row } from './report.ts';
import { BASELINE_HTTP, chargeReplayKeys, scenarios, type ScenarioContext } from './scenarios.ts';
import { pgbenchAvailable, pgbenchBaseline } from './pgbench-baseline.ts';
import { sqlBaseline } from './sql-baseline.ts';
import { measureReplication, patroniSkipReason } from './ha-cluster.ts';
import { authorizeCaptureRows } from './hold-pairs.ts';
import { uniqueWebhookRow } from './outbox.ts';

if (process.argv[2] === 'overload') {
  process.argv.splice(2, 1);
  await import('./overload.ts');
  process.exit();
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    pool: { type: 'string', default: '16' },
    only: { type: 'string' },
    // auto: wrk when it is on PATH (apt-get install wrk), else autocannon.
    generator: { type: 'string', default: 'auto' },
    // auto: the unique-sync-replication lines run when Patroni, etcd and HAProxy are installed; off: never.
    ha: { type: 'string', default: 'auto' },
    // pgbench clients for the SQL baselines.
    'sql-clients': { type: 'string', default: '16' },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const connections = Number(values.connections);
const poolSize = Number(values.pool);
const generator = pickGenerator(values.generator);
const API_KEY = 'bench_client_key_000000000000000001';
const ADMIN_KEY = 'bench_admin_key_0000000000000000001';

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
    // The unique-webhook row registers an endpoint (admin API) on a receiver in this process, on loopback.
    APP_ADMIN_API_KEYS: `bench-admin:${ADMIN_KEY}`,
    WEBHOOK_URL_ALLOWLIST: '127.0.0.1',
    RATE_LIMIT_MAX: '0',
    DB_POOL_SIZE: String(poolSize),
    ...tuning,
  };
  const up = await startHttp(PICOPAY, { ...serverEnv, ...(redis.value ? { REDIS_URL: redis.value } : {}) });
  cleanups.push(up);
  const down = await startHttp(PICOPAY, { ...serverEnv, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  cleanups.push(down);
  // Group commit is on by default; this one runs one transaction per charge, for the comparison.
  const unbatched = await startHttp(PICOPAY, {
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
  Object.assign(baselines, await sqlBaselines(database.value, userIds, hotUser));
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
  if (values.only === undefined || 'unique-webhook'.includes(values.only)) {
    const run = { generator, connections, warmupS, durationS, log };
    const unique = scenarios(ctx)[0]!;
    const uniqueRow = rows.find((r) => r.name === 'unique');
    const adminKey = ADMIN_KEY;
    rows.push(
      await uniqueWebhookRow({ ...run, target: up.value, adminKey, databaseUrl: database.value, unique, uniqueRow }),
    );
  }
  if (values.only === undefined || 'authorize-capture'.includes(values.only)) {
    const sqlClients = Number(values['sql-clients']);
    const run = { connections, warmupS, durationS, sqlClients, log };
    rows.push(...(await authorizeCaptureRows({ ...run, target: up.value, databaseUrl: database.value, ...ctx })));
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
      ratio: lone.rps / baselines['sql-unique']!.rps,
      ...lone,
    });
  }

  rows.push(...(await replicationRows(rows, redis.value)));

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

/**
 * sql-unique and sql-hot: picopay_charge() called once per charge by pgbench (16 clients, its C client and protocol),
 * or, without pgbench on PATH, by a Node loop with the server's driver and pool size.
 */
async function sqlBaselines(
  url: string,
  userIds: readonly number[],
  hotUser: number,
): Promise<Record<string, Measurement>> {
  if (pgbenchAvailable()) {
    const clients = Number(values['sql-clients']);
    const run = { clients, warmupS, durationS };
    log(`baseline sql-unique: picopay_charge() in pgbench, ${clients} clients, random users`);
    const min = Math.min(...userIds);
    const max = Math.max(...userIds);
    // pgbench draws ids from a range: every id in it must be a funded user, as in the HTTP scenarios.
    if (max - min + 1 !== userIds.length) throw new Error('seeded user ids are not contiguous');
    const unique = await pgbenchBaseline(url, { ...run, users: { min, max } });
    log(`baseline sql-hot: picopay_charge() in pgbench, ${clients} clients, one account`);
    const hot = await pgbenchBaseline(url, { ...run, users: { min: hotUser, max: hotUser } });
    return { 'sql-unique': unique, 'sql-hot': hot };
  }
  log('pgbench is not on PATH (Debian: postgresql-client): the SQL baselines run from a Node loop instead');
  const sqlOptions = { poolSize, inFlight: connections, warmupMs: warmupS * 1000, durationMs: durationS * 1000 };
  const pickUser = (): number => userIds[Math.floor(Math.random() * userIds.length)]!;
  return {
    'sql-unique': await sqlBaseline(url, { ...sqlOptions, pickUser }),
    'sql-hot': await sqlBaseline(url, { ...sqlOptions, pickUser: () => hotUser }),
  };
}

/** unique charges on a local Patroni cluster, synchronous replication on and off, against the single-node line. */
async function replicationRows(rows: readonly Row[], redisUrl: string | undefined): Promise<Row[]> {
  if (values.ha === 'off' || (values.only !== undefined && !'unique-sync-replication'.includes(values.only))) return [];
  const skip = patroniSkipReason();
  if (skip !== undefined) {
    log(`unique-sync-replication skipped: ${skip}`);
    return [];
  }
  log('unique-sync-replication: unique charges through HAProxy to a three-node Patroni cluster (sync on, then off)');
  const run = { generator, connections, warmupS, durationS, apiKey: API_KEY, redisUrl };
  const { sync, async } = await measureReplication(run);
  const single = rows.find((r) => r.name === 'unique');
  const row = (name: string, description: string, m: Measurement): Row => ({
    name,
    description,
    baseline: single === undefined ? null : 'unique',
    ratio: single === undefined ? null : m.rps / single.rps,
    ...m,
  });
  return [
    row('unique-sync-replication', 'unique charges, 3-node Patroni, synchronous_mode on (RPO 0)', sync),
    row('unique-async-replication', 'unique charges, 3-node Patroni, synchronous_mode off', async),
  ];
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
