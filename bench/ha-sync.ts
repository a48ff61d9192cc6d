// `npx tsx bench/ha-sync.ts [-- --duration 10 --connections 32]`: what synchronous replication costs PicoPay on the
// local HA cluster (deploy/ha/local-cluster.sh). One cluster, one PicoPay through HAProxy's write port; unique charges
// over 1,000 funded users with Patroni's synchronous_mode on, then off (patronictl edit-config), each after a warm-up.
// Prints charges/s, p50 and p99 per mode and round; BATCH_ENABLED is passed on (false: one commit per charge). The load generator is the bench's (wrk when on PATH, else autocannon).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startHaCluster } from './ha-cluster.ts';
import { log, PICOPAY, seed, startHttp } from './infra.ts';
import { measure, pickGenerator } from './load.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    // Modes alternate (on, off, on, off, ...) so that drift on a shared machine shows as noise, not as a difference.
    rounds: { type: 'string', default: '2' },
  },
});
const API_KEY = 'bench_client_key_000000000000000001';

async function main(): Promise<void> {
  const cluster = await startHaCluster();
  try {
    const server = await startHttp(PICOPAY, {
      DATABASE_URL: cluster.databaseUrl,
      APP_API_KEYS: `bench:${API_KEY}`,
      RATE_LIMIT_MAX: '0',
      BATCH_ENABLED: process.env.BATCH_ENABLED ?? '',
    });
    try {
      const { userIds } = await seed(cluster.databaseUrl, 1000);
      const next = () => ({
        path: '/charge',
        method: 'POST' as const,
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'idempotency-key': randomUUID() },
        body: `{"user_id":${userIds[Math.floor(Math.random() * userIds.length)]},"amount":"0.01","currency":"USD"}`,
      });
      const generator = pickGenerator('auto');
      const modes = Array.from({ length: Number(values.rounds) }, () => [true, false]).flat();
      for (const on of modes) {
        await cluster.setSynchronous(on);
        const m = await measure(
          generator,
          server.value,
          Number(values.connections),
          Number(values.warmup),
          Number(values.duration),
          { next, keys: 'fresh' },
        );
        log(
          `synchronous_mode=${on}: ${Math.round(m.rps)} charges/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ` +
            `${m.errors} errors, ${m.non2xx} non-2xx (${generator}, ${values.connections} connections, ${values.duration} s)`,
        );
      }
    } finally {
      await server.release();
    }
  } finally {
    await cluster.release();
  }
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
