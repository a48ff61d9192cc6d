// A throw-away PgBouncer in transaction pooling mode in front of a test database, on a free loopback port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { asServiceUser, serviceDir, serviceUserSkipReason } from './service-user.ts';

const BINARY = ['pgbouncer', '/usr/sbin/pgbouncer'].find((b) => spawnSync(b, ['--version']).status === 0);

/** Why the PgBouncer test cannot run here, or undefined. */
export function pgbouncerSkipReason(): string | undefined {
  if (BINARY === undefined) return 'pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it)';
  return serviceUserSkipReason();
}

export function pgbouncerVersion(): string {
  return spawnSync(BINARY!, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
}

export interface PgBouncer {
  /** postgres:// URL of database alias `picopay` (pool of `poolSize` server connections). */
  readonly url: string;
  /** Alias `picopay_one`: the same database through a pool of ONE server connection. */
  readonly oneConnectionUrl: string;
  readonly poolSize: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * PgBouncer for `target` (a direct postgres:// URL), pool_mode = transaction. The three timeouts node-postgres
 * sends as startup parameters are ignored (as an operator must configure it); the database's or role's defaults
 * then apply to the server connections. Clients authenticate with trust; PgBouncer logs in with target's password.
 */
export async function startPgBouncer(target: string, poolSize = 5, queryWaitTimeoutS = 10): Promise<PgBouncer> {
  const dir = serviceDir('picopay-pgbouncer-');
  const port = await freePort();
  const db = new URL(target);
  const user = decodeURIComponent(db.username);
  const password = decodeURIComponent(db.password);
  const server = [
    `host=${db.hostname}`,
    `port=${db.port || '5432'}`,
    `dbname=${db.pathname.slice(1)}`,
    `user=${user}`,
    ...(password === '' ? [] : [`password=${password}`]),
  ].join(' ');
  const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
  writeFileSync(path.join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `picopay = ${server}`,
      `picopay_one = ${server} pool_size=1`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 500',
      'ignore_startup_parameters = statement_timeout,lock_timeout,idle_in_transaction_session_timeout,options',
      // A backstop for a dead network path; the server-side statement_timeout fires first.
      'query_timeout = 30',
      `query_wait_timeout = ${queryWaitTimeoutS}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );

  const [cmd, args] = asServiceUser(BINARY!, [path.join(dir, 'pgbouncer.ini')]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pgbouncer did not start: ${output}`)), 10_000);
    const check = (): void => {
      if (/listening on 127\.0\.0\.1:\d+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pgbouncer exited (${code}): ${output}`));
    });
  });
  const base = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}`;
  return {
    url: `${base}/picopay`,
    oneConnectionUrl: `${base}/picopay_one`,
    poolSize,
    output: () => output,
    stop: async () => {
      // runuser forwards SIGTERM to PgBouncer, which then closes its connections and exits.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
