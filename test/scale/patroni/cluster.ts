// The local HA cluster (deploy/ha/local-cluster.sh: etcd, three Patroni/PostgreSQL nodes, HAProxy) for the failover
// tests: started and stopped through the script, observed through Patroni's REST API, broken with the script's drills.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { serviceUserSkipReason } from '../service-user.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../../deploy/ha/local-cluster.sh');
const TOOLS = ['patroni', 'patronictl', 'etcd', 'haproxy', 'psql', 'curl', 'python3'];
export const NODES = ['node1', 'node2', 'node3'] as const;
export type NodeName = (typeof NODES)[number];

/** Why the cluster cannot be started here, or undefined. */
export function patroniSkipReason(): string | undefined {
  const missing = TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  const pgBin =
    existsSync('/usr/lib/postgresql') &&
    readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_rewind`));
  if (!pgBin) missing.push('PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin)');
  if (missing.length > 0) {
    return `${missing.join(', ')} not installed (apt-get install --no-install-recommends patroni etcd-server haproxy; .ci/run installs them)`;
  }
  return serviceUserSkipReason();
}

export interface Member {
  readonly name: NodeName;
  /** leader, sync_standby or replica. */
  readonly role: string;
  readonly state: string;
  readonly timeline?: number;
}

export interface HaCluster {
  readonly dir: string;
  /** HAProxy's write port (the leader), database picopay. */
  readonly databaseUrl: string;
  /** HAProxy's read port (the replicas). */
  readonly replicaUrl: string;
  /** Patroni's view of the members, from the first node that answers. */
  members(): Promise<Member[]>;
  /** The member holding the leader key, per Patroni (undefined while there is none). */
  leader(): Promise<NodeName | undefined>;
  syncStandby(): Promise<NodeName | undefined>;
  /** Runs one of the script's drills (kill-postgres NODE, kill-node NODE, start-node NODE, stop-etcd, ...). */
  drill(...args: string[]): Promise<string>;
  /** Sets a node's `nosync` tag (a node with it is never chosen as synchronous standby) and reloads its Patroni. */
  setNoSync(node: NodeName, noSync: boolean): void;
  /** A node's Patroni log (PostgreSQL's server log is in it too). */
  log(node: NodeName): string;
  down(): Promise<void>;
}

/** Runs the script; resolves with its stdout, rejects with its stderr when it exits non-zero. */
function script(args: readonly string[], dir?: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PICOPAY_HA_DIR;
  if (dir !== undefined) env.PICOPAY_HA_DIR = dir;
  const child = spawn('bash', [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`local-cluster.sh ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

/** Polls `check` until it returns a value other than undefined/false; fails naming `what` after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startHaCluster(): Promise<HaCluster> {
  const out = await script(['up']);
  const lines = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const dir = lines.PICOPAY_HA_DIR!;
  const state = Object.fromEntries(
    readFileSync(path.join(dir, 'cluster.env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('=')),
  );
  const api = (node: NodeName): string => `http://127.0.0.1:${state[`${node}_API`]}`;
  const members = async (): Promise<Member[]> => {
    for (const node of NODES) {
      try {
        const res = await fetch(`${api(node)}/cluster`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return ((await res.json()) as { members: Member[] }).members;
      } catch {
        // this member is down: ask the next
      }
    }
    throw new Error('no Patroni member answers');
  };
  const withRole = async (role: string): Promise<NodeName | undefined> =>
    (await members().catch(() => [])).find((m) => m.role === role)?.name;
  return {
    dir,
    databaseUrl: lines.DATABASE_URL!,
    replicaUrl: lines.DATABASE_REPLICA_URL!,
    members,
    leader: () => withRole('leader'),
    syncStandby: () => withRole('sync_standby'),
    drill: (...args) => script(args, dir),
    setNoSync(node, noSync) {
      const file = path.join(dir, node, 'patroni.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^( {2}nosync:) \w+$/m, `$1 ${noSync}`));
      process.kill(Number(readFileSync(path.join(dir, node, 'patroni.pid'), 'utf8')), 'SIGHUP');
    },
    log: (node) => readFileSync(path.join(dir, node, 'patroni.log'), 'utf8'),
    down: () => script(['down'], dir).then(() => {}),
  };
}
