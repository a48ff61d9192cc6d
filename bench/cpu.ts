// `npm run bench:cpu [-- --seconds 10] [--profile DIR]`: server CPU time per request, PicoPay's cache-hit replay
// against the bare Fastify route, read from /proc/<pid>/stat around one load run each. Throughput ratios move with
// whatever else the machine does; CPU per request is what the server itself spends. With --profile, PicoPay runs
// under `node --cpu-prof` and its profile lands in DIR at exit: `npx tsx bench/profile-summary.ts DIR/<file>`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { freshDatabase, log, PICOPAY, redisForBench, seed, startHttp, type Resource } from './infra.ts';
import { measure, pickGenerator } from './load.ts';
import { BASELINE_HTTP, chargeReplayKeys, scenarios } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    generator: { type: 'string', default: 'auto' },
    profile: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const generator = pickGenerator(values.generator);
const API_KEY = 'bench_client_key_000000000000000001';
const TICKS_PER_SECOND = 100; // Linux USER_HZ, the unit of utime/stime in /proc/<pid>/stat

/** utime and stime of a process, in seconds. */
function cpuSeconds(pid: number): { user: number; system: number } {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

const cleanups: Resource<unknown>[] = [];
try {
  const database = await freshDatabase();
  cleanups.push(database);
  const redis = await redisForBench();
  cleanups.push(redis);
  const { userIds, hotUser } = await seed(database.value, 20);
  const env = {
    DATABASE_URL: database.value,
    APP_API_KEYS: `bench:${API_KEY}`,
    RATE_LIMIT_MAX: '0',
    DB_POOL_SIZE: '16',
  };
  const profiling = values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`];
  const picopay = await startHttp(PICOPAY, { ...env, ...(redis.value ? { REDIS_URL: redis.value } : {}) }, profiling);
  cleanups.push(picopay);
  const bare = await startHttp('bench/http-baseline.ts', {});
  cleanups.push(bare);
  const replayKeys = userIds.map((userId, i) => ({ key: `cpu-replay-${Date.now()}-${i}`, userId }));
  await chargeReplayKeys(picopay.value, API_KEY, replayKeys);
  const replays = scenarios({ apiKey: API_KEY, users: userIds, hotUser, replayKeys }).find(
    (s) => s.name === 'replays',
  )!;
  const lines: string[] = [];
  for (const [name, server, plan] of [
    ['bare Fastify route (baseline:http)', bare, BASELINE_HTTP],
    ['PicoPay cache-hit replay', picopay, replays],
  ] as const) {
    log(`${name}: 3 s warm-up, then ${seconds} s with ${generator}, 64 connections`);
    await measure(generator, server.value, 64, 0, 3, plan);
    const before = cpuSeconds(server.child.pid!);
    const m = await measure(generator, server.value, 64, 0, seconds, plan);
    const after = cpuSeconds(server.child.pid!);
    const requests = m.rps * seconds;
    const us = (s: number): string => ((s / requests) * 1e6).toFixed(1);
    lines.push(
      `| ${name} | ${Math.round(m.rps).toLocaleString('en-US')} | ${us(after.user - before.user + after.system - before.system)} | ${us(after.user - before.user)} | ${us(after.system - before.system)} |`,
    );
  }
  process.stdout.write(
    `\n| server | req/s | CPU µs/request | user | system |\n|---|--:|--:|--:|--:|\n${lines.join('\n')}\n\n`,
  );
} finally {
  for (const c of cleanups.reverse()) await c.release().catch((e: unknown) => log(`cleanup: ${String(e)}`));
}
