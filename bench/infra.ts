// What `npm run bench` stands on: a fresh database (embedded PostgreSQL by default, or a new database on
// DATABASE_URL's server), Redis (REDIS_URL, or a redis-server from PATH), PicoPay and the HTTP baseline as child
// processes, and seed data written directly in SQL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
// @ts-expect-error bin/build.mjs is plain JavaScript without declarations
import { ensureBuilt } from '../bin/build.mjs';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';

export const root = path.resolve(import.meta.dirname, '..');
/** startHttp's entry for PicoPay itself (compiled); anything else is a TypeScript file run by tsx. */
export const PICOPAY = 'picopay';
export const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface Resource<T> {
  readonly value: T;
  release(): Promise<void>;
}

/** extraFlags: server flags for the embedded cluster only (a DATABASE_URL server is used as configured). */
export async function freshDatabase(extraFlags: readonly string[] = []): Promise<Resource<string>> {
  const given = process.env.DATABASE_URL;
  let serverUrl: string;
  let stopServer = async (): Promise<void> => {};
  if (given === undefined || given === '') {
    const port = await freePort();
    const dataDir = path.join(root, '.bench-data', `pg-${port}`);
    log(`embedded PostgreSQL on port ${port} (default durability settings)`);
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port,
      database: 'postgres',
      log,
      postgresFlags: ['-c', 'max_connections=200', ...extraFlags],
    });
    serverUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  } else {
    serverUrl = given;
  }
  const name = `picopay_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    value: url.toString(),
    release: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      await stopServer();
    },
  };
}

export async function redisForBench(): Promise<Resource<string | undefined>> {
  if (process.env.REDIS_URL) return { value: process.env.REDIS_URL, release: async () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('no REDIS_URL and no redis-server on PATH: Redis scenarios run without Redis');
    return { value: undefined, release: async () => {} };
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return { value: `redis://127.0.0.1:${port}`, release: async () => void child.kill('SIGKILL') };
}

/** Up to 60 s (a server migrating a database first, on a loaded machine), or until the process has exited. */
async function waitForPort(port: number, child?: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200 && (child?.exitCode ?? null) === null; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = child?.exitCode ?? null;
  throw new Error(`nothing listens on ${port}${exited === null ? '' : ` (exited ${exited})`}`);
}

/**
 * A child process serving HTTP on a free port: the bare baseline (a TypeScript file run by tsx), or PicoPay as
 * production runs it — compiled JavaScript (dist/, built when stale) at the default log level (info, written
 * to /dev/null), so the bench pays for everything a deployment pays for.
 */
export async function startHttp(
  entry: string,
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): Promise<Resource<string> & { child: ChildProcess }> {
  const port = await freePort();
  const picopay = entry === PICOPAY;
  const args = picopay
    ? [...nodeFlags, fileURLToPath(new URL('server.js', ensureBuilt()))]
    : [...nodeFlags, '--import', 'tsx', path.join(root, entry)];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    // PicoPay's info lines are written (as a deployment writes them) to /dev/null, read by no other process here.
    stdio: ['ignore', picopay ? openSync('/dev/null', 'w') : 'ignore', 'inherit'],
  });
  await waitForPort(port, child);
  return {
    value: `http://127.0.0.1:${port}`,
    child,
    release: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** 10,000 users with 1,000,000.00 USD each, plus one hot user, in a few statements. */
export async function seed(databaseUrl: string, users: number): Promise<{ userIds: number[]; hotUser: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('BEGIN');
    const created = await db.query<{ id: string }>(
      `INSERT INTO users (name) SELECT 'bench-' || g FROM generate_series(1, $1) g RETURNING id`,
      [users + 1],
    );
    const ids = created.rows.map((r) => Number(r.id));
    await db.query(
      `WITH a AS (INSERT INTO accounts (user_id, currency, exponent, balance)
                  SELECT id, 'USD', 2, 100000000 FROM unnest($1::bigint[]) AS id RETURNING id, user_id)
       INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, description)
       SELECT a.id, a.user_id, 'credit', 100000000, 100000000, 'bench opening balance' FROM a`,
      [ids],
    );
    await db.query('COMMIT');
    return { userIds: ids.slice(1), hotUser: ids[0]! };
  } finally {
    await db.end();
  }
}
