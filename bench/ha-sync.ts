// `npx tsx bench/ha-sync.ts [-- --duration 10 --connections 32]`: what synchronous replication costs PicoPay on the
// local HA cluster (deploy/ha/local-cluster.sh). One cluster, one PicoPay through HAProxy's write port; unique charges
// over 1,000 funded users with Patroni's synchronous_mode on, then off (patronictl edit-config), each after a warm-up.
// Prints charges/s, p50 and p99 per mode and round; BATCH_ENABLED is passed on (false: one commit per charge). The load generator is the bench's (wrk when on PATH, else autocannon).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { log, root, seed, startHttp } from './infra.ts';
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
const SCRIPT = path.join(root, 'deploy/ha/local-cluster.sh');
const API_KEY = 'bench_client_key_000000000000000001';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

/** Sets synchronous_mode and waits until the leader's synchronous_standby_names agrees (bounded). */
async function setSynchronous(dir: string, databaseUrl: string, on: boolean): Promise<void> {
  await run('patronictl', [
    '-c',
    path.join(dir, 'node1/patroni.yml'),
    'edit-config',
    '--force',
    '-s',
    `synchronous_mode=${on}`,
  ]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client
      .query<{ names: string }>("SELECT current_setting('synchronous_standby_names') AS names")
      .finally(() => client.end());
    if ((rows[0]!.names !== '') === on) return;
    if (Date.now() > deadline) throw new Error(`synchronous_mode=${on} not applied within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PICOPAY_HA_DIR;
  const up = await run('bash', [SCRIPT, 'up'], env);
  const urls = Object.fromEntries(
    up
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const dir = urls.PICOPAY_HA_DIR!;
  try {
    const server = await startHttp('src/server.ts', {
      DATABASE_URL: urls.DATABASE_URL!,
      APP_API_KEYS: `bench:${API_KEY}`,
      RATE_LIMIT_MAX: '0',
      BATCH_ENABLED: process.env.BATCH_ENABLED ?? '',
    });
    try {
      const { userIds } = await seed(urls.DATABASE_URL!, 1000);
      const next = () => ({
        path: '/charge',
        method: 'POST' as const,
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'idempotency-key': randomUUID() },
        body: `{"user_id":${userIds[Math.floor(Math.random() * userIds.length)]},"amount":"0.01","currency":"USD"}`,
      });
      const generator = pickGenerator('auto');
      const modes = Array.from({ length: Number(values.rounds) }, () => [true, false]).flat();
      for (const on of modes) {
        await setSynchronous(dir, urls.DATABASE_URL!, on);
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
    await run('bash', [SCRIPT, 'down', dir], env);
  }
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
