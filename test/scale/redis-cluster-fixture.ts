// A throw-away Redis Cluster of three masters (no replicas) on free loopback ports, for test/scale/redis-cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/processes.ts';

export interface RedisCluster {
  /** REDIS_CLUSTER_NODES for PicoPay. */
  readonly nodes: string;
  readonly ports: readonly number[];
  /** SIGKILL one master; resolves when it is gone. */
  kill(index: number): Promise<void>;
  /** Runs redis-cli against a node and returns its output. */
  cli(index: number, ...args: string[]): string;
  stop(): Promise<void>;
}

/** Why the cluster test cannot run here, or undefined when redis-server and redis-cli are both on PATH. */
export function redisClusterSkipReason(): string | undefined {
  for (const binary of ['redis-server', 'redis-cli']) {
    if (spawnSync(binary, ['--version']).status !== 0) return `${binary} not found on PATH`;
  }
  return undefined;
}

async function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'no',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, `nodes-${port}.conf`),
      '--appendonly',
      'no',
      '--save',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server ${port} exited (${code}): ${output.slice(-300)}`)));
  });
  child.stdout.resume();
  return child;
}

const gone = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

/** Three masters, slots assigned by `redis-cli --cluster create`, resolved once every node says cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'picopay-redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const cli = (index: number, ...args: string[]): string => {
    const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(ports[index]), ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    return `${result.stdout}${result.stderr}`;
  };
  const stop = async (): Promise<void> => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(gone));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) children.push(await startNode(port, dir));
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = Date.now() + 20_000;
    while (!ports.every((_, i) => cli(i, 'cluster', 'info').includes('cluster_state:ok'))) {
      if (Date.now() > deadline) throw new Error(`cluster not ok after 20 s: ${cli(0, 'cluster', 'info')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    cli,
    kill: async (index) => {
      const child = children[index]!;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone(child);
    },
    stop,
  };
}
