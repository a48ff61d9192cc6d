// The reliability suite attacks the real system: PicoPay as child processes (src/server.ts), real PostgreSQL,
// real Redis. This module starts and stops those processes, drives load over HTTP and checks what it saw.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort } from '../helpers/processes.ts';

const root = path.resolve(import.meta.dirname, '../..');
export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? '';
export const ADMIN_KEY = 'rk_admin_reliability_key_0000000001';
export const CLIENT_KEY = 'rk_client_reliability_key_000000002';

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process printed (stdout and stderr). */
  output(): string;
  /** Sends a signal and resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node --import tsx src/server.ts` and resolves once it listens. */
export async function startServer(env: Record<string, string> = {}, port?: number): Promise<ServerProcess> {
  const chosen = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/server.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL,
      HOST: '127.0.0.1',
      PORT: String(chosen),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '0',
      AUTH_FAILURE_LIMIT: '0',
      BATCH_ENABLED: process.env.BATCH_ENABLED ?? '',
      APP_API_KEYS: `shop:${CLIENT_KEY}`,
      APP_ADMIN_API_KEYS: `ops:${ADMIN_KEY}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${chosen}`;
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (output.includes('picopay: listening on')) resolve();
    };
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`server exited during start: ${output}`)));
  });
  return {
    url,
    port: chosen,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Reply {
  readonly status: number; // 0: no HTTP answer (connection refused/reset)
  readonly body: string;
  readonly replayed: boolean;
  readonly retryAfter: string | null;
  readonly ms: number;
}

export async function post(
  url: string,
  route: string,
  body: unknown,
  key?: string,
  apiKey = CLIENT_KEY,
): Promise<Reply> {
  const started = performance.now();
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey };
    if (key !== undefined) headers['idempotency-key'] = key;
    const res = await fetch(url + route, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    const replayed = res.headers.get('idempotent-replayed') === 'true';
    return {
      status: res.status,
      body: text,
      replayed,
      retryAfter: res.headers.get('retry-after'),
      ms: performance.now() - started,
    };
  } catch {
    return { status: 0, body: '', replayed: false, retryAfter: null, ms: performance.now() - started };
  }
}

export const charge = (url: string, userId: number, amount: number | string, key: string): Promise<Reply> =>
  post(url, '/charge', { user_id: userId, amount, currency: 'USD' }, key);

/** Runs tasks with at most `concurrency` in flight; results in task order. */
export async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export async function createFundedUser(url: string, balanceMajor: string): Promise<number> {
  const res = await post(url, '/users', { name: 'reliability', balances: { USD: balanceMajor } }, undefined, ADMIN_KEY);
  assert.equal(res.status, 201, res.body);
  return JSON.parse(res.body).id;
}

export const newKey = (): string => randomUUID();

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function countBy<T>(items: readonly T[], key: (item: T) => string | number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[String(key(item))] = (out[String(key(item))] ?? 0) + 1;
  return out;
}

/** One line per scenario, greppable in CI output. */
export function summary(scenario: string, facts: Record<string, unknown>): void {
  const text = Object.entries(facts)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean | undefined)}`,
    )
    .join(' ');
  process.stdout.write(`[reliability] ${scenario}: ${text}\n`);
}

export interface LedgerTruth {
  readonly balanceMinor: number;
  readonly chargeEntries: number;
  readonly keysWithEntry: ReadonlyMap<string, number>;
}

/** What PostgreSQL says about a user: balance, charge entries and how many entries each key produced. */
export async function ledgerOf(userId: number, databaseUrl = DATABASE_URL): Promise<LedgerTruth> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const balance = await client.query('SELECT balance::text FROM accounts WHERE user_id = $1', [userId]);
    const entries = await client.query(
      "SELECT idempotency_key, count(*)::int AS n FROM ledger_entries WHERE user_id = $1 AND type = 'charge' GROUP BY idempotency_key",
      [userId],
    );
    const keys = new Map<string, number>(entries.rows.map((r) => [r.idempotency_key as string, r.n as number]));
    return {
      balanceMinor: Number(balance.rows[0]?.balance ?? 0),
      chargeEntries: [...keys.values()].reduce((a, b) => a + b, 0),
      keysWithEntry: keys,
    };
  } finally {
    await client.end();
  }
}

/** The shared checker: the ledger invariants over the whole database (same checks as `npm run verify`). */
export { assertLedgerInvariants } from '../helpers/ledger.ts';

/**
 * Money conservation for one user: seeded − Σ charged = balance, where "charged" is what the HTTP answers say
 * (each key that got a 200), and every key has at most one entry.
 */
export async function assertConserved(
  userId: number,
  seededMinor: number,
  succeededKeys: ReadonlySet<string>,
  amountMinor: number,
  databaseUrl = DATABASE_URL,
): Promise<LedgerTruth> {
  const truth = await ledgerOf(userId, databaseUrl);
  for (const [key, n] of truth.keysWithEntry) assert.equal(n, 1, `key ${key} has ${n} entries`);
  for (const key of succeededKeys) assert.ok(truth.keysWithEntry.has(key), `a 200 for ${key} has its entry`);
  assert.equal(truth.chargeEntries, succeededKeys.size, 'no entry without a 200 once every key is decided');
  assert.equal(truth.balanceMinor, seededMinor - succeededKeys.size * amountMinor, 'money conserved');
  return truth;
}
