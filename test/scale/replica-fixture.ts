// A throw-away primary and streaming hot standby (initdb, pg_basebackup -R) on free loopback ports, run as the
// `postgres` OS user when the tests run as root. The standby logs every statement it executes, so a test can prove
// what reached it.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../helpers/processes.ts';
import { runAsServiceUser, serviceDir, serviceUserSkipReason } from './service-user.ts';

const TOOLS = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'];

/** The newest /usr/lib/postgresql/<major>/bin holding every tool (Debian's layout). */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  return readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(base, v, 'bin'))
    .find((dir) => TOOLS.every((tool) => existsSync(path.join(dir, tool))));
}

export function replicaSkipReason(): string | undefined {
  if (postgresBinDir() === undefined)
    return `no /usr/lib/postgresql/<version>/bin with ${TOOLS.join(', ')} (apt-get install postgresql)`;
  return serviceUserSkipReason();
}

const USER = 'picopay_scale';
const DATABASE = 'picopay';

export interface Node {
  readonly port: number;
  readonly url: string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
}

export interface ReplicationPair {
  readonly primary: Node;
  readonly standby: Node;
  /** Resolves once the standby has replayed everything the primary had written when called (bounded). */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Everything the standby logged (log_statement = all). */
  standbyLog(): string;
  stopStandby(): void;
  stop(): void;
}

function node(port: number): Node {
  const url = `postgres://${USER}@127.0.0.1:${port}/${DATABASE}`;
  return {
    port,
    url,
    async query(text, values) {
      const client = new pg.Client({ connectionString: url, application_name: 'scale-test' });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * initdb (trust for 127.0.0.1, replication included), primary with wal_level=replica, the database created and
 * `prepare` run on it (migrations), then a base backup streamed to the standby, which starts in hot standby.
 */
export async function startReplicationPair(prepare: (primaryUrl: string) => Promise<void>): Promise<ReplicationPair> {
  const bin = (tool: string): string => path.join(postgresBinDir()!, tool);
  const dir = serviceDir('picopay-replica-');
  const [primaryDir, standbyDir] = [path.join(dir, 'primary'), path.join(dir, 'standby')];
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const common = `-c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=60`;
  const pgCtl = (dataDir: string, ...args: string[]): string =>
    runAsServiceUser(bin('pg_ctl'), ['-D', dataDir, ...args]);
  let started: string[] = [];
  const stopAll = (): void => {
    for (const d of started) {
      try {
        pgCtl(d, '-m', 'immediate', 'stop');
      } catch {
        // already stopped
      }
    }
    started = [];
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runAsServiceUser(bin('initdb'), [
      '-D',
      primaryDir,
      '-U',
      USER,
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    pgCtl(
      primaryDir,
      '-l',
      path.join(dir, 'primary.log'),
      '-w',
      '-o',
      `-p ${primaryPort} ${common} -c wal_level=replica -c max_wal_senders=4`,
      'start',
    );
    started.push(primaryDir);
    const admin = new pg.Client({ connectionString: `postgres://${USER}@127.0.0.1:${primaryPort}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    await prepare(node(primaryPort).url);
    runAsServiceUser(bin('pg_basebackup'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      USER,
      '-D',
      standbyDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    pgCtl(
      standbyDir,
      '-l',
      path.join(dir, 'standby.log'),
      '-w',
      '-o',
      `-p ${standbyPort} ${common} -c hot_standby=on -c log_statement=all`,
      'start',
    );
    started.push(standbyDir);
  } catch (error) {
    stopAll();
    throw error;
  }
  const primary = node(primaryPort);
  const standby = node(standbyPort);
  return {
    primary,
    standby,
    async caughtUp(timeoutMs = 15_000) {
      const [current] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const lsn = current!.lsn;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [row] = await standby.query<{ done: boolean }>(
          'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done',
          [lsn],
        );
        if (row!.done) return;
        if (Date.now() > deadline) throw new Error(`standby has not replayed ${lsn} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    standbyLog: () => readFileSync(path.join(dir, 'standby.log'), 'utf8'),
    stopStandby() {
      pgCtl(standbyDir, '-m', 'fast', 'stop');
      started = started.filter((d) => d !== standbyDir);
    },
    stop: stopAll,
  };
}
