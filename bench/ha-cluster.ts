// The local HA cluster (deploy/ha/local-cluster.sh) for the bench: up, Patroni's synchronous_mode switched on or off,
// down. Used by `npm run bench` (the unique-sync-replication line) and bench/ha-sync.ts (the fuller comparison).
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { patroniSkipReason } from '../test/scale/patroni/cluster.ts';
import { PICOPAY, root, seed, startHttp } from './infra.ts';
import { measure, type Generator, type Measurement } from './load.ts';
import { scenarios } from './scenarios.ts';

const SCRIPT = path.join(root, 'deploy/ha/local-cluster.sh');

export { patroniSkipReason };

export interface HaCluster {
  /** HAProxy's write port (the leader). */
  readonly databaseUrl: string;
  readonly dir: string;
  setSynchronous(on: boolean): Promise<void>;
  release(): Promise<void>;
}

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

/** `local-cluster.sh up` (etcd, three Patroni nodes with synchronous_mode on, HAProxy), returned once writable. */
export async function startHaCluster(): Promise<HaCluster> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PICOPAY_HA_DIR;
  const out = await run('bash', [SCRIPT, 'up'], env);
  const urls = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const dir = urls.PICOPAY_HA_DIR!;
  const databaseUrl = urls.DATABASE_URL!;
  return {
    databaseUrl,
    dir,
    setSynchronous: (on) => setSynchronous(dir, databaseUrl, on),
    release: async () => void (await run('bash', [SCRIPT, 'down', dir], env)),
  };
}

export interface ReplicationRun {
  readonly generator: Generator;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly apiKey: string;
  readonly redisUrl: string | undefined;
}

/**
 * The unique-charge scenario through HAProxy's write port of a three-node cluster, with Patroni's synchronous_mode on
 * (a commit waits for a standby: RPO = 0) and then off, each on the same cluster and PicoPay process.
 */
export async function measureReplication(run: ReplicationRun): Promise<{ sync: Measurement; async: Measurement }> {
  const cluster = await startHaCluster();
  try {
    const server = await startHttp(PICOPAY, {
      DATABASE_URL: cluster.databaseUrl,
      APP_API_KEYS: `bench:${run.apiKey}`,
      RATE_LIMIT_MAX: '0',
      ...(run.redisUrl ? { REDIS_URL: run.redisUrl } : {}),
    });
    try {
      const { userIds, hotUser } = await seed(cluster.databaseUrl, 1000);
      const unique = scenarios({ apiKey: run.apiKey, users: userIds, hotUser, replayKeys: [] })[0]!;
      const once = (): Promise<Measurement> =>
        measure(run.generator, server.value, run.connections, run.warmupS, run.durationS, unique);
      await cluster.setSynchronous(true);
      const sync = await once();
      await cluster.setSynchronous(false);
      const async = await once();
      return { sync, async };
    } finally {
      await server.release();
    }
  } finally {
    await cluster.release();
  }
}
