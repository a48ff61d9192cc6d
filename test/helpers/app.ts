import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { assertLedgerInvariants } from './ledger.ts';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? '';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? '';
/** Why Redis tests are skipped, or false when Redis is available. */
export const REDIS_SKIP: string | false = process.env.TEST_REDIS_SKIP
  ? process.env.TEST_REDIS_SKIP
  : REDIS_URL === ''
    ? 'no Redis'
    : false;

if (DATABASE_URL === '') throw new Error('run the tests with `npm test` (it provides TEST_DATABASE_URL)');

/** Keys every test app accepts: two clients (one with two keys, for rotation) and an admin. */
export const KEYS = {
  checkout: 'ck_checkout_key_aaaaaaaaaaaaaaaa',
  checkoutRotated: 'ck_checkout_key_bbbbbbbbbbbbbbbb',
  billing: 'ck_billing_key_cccccccccccccccccc',
  admin: 'ck_admin_key_dddddddddddddddddddd',
} as const;

export interface TestApp {
  readonly app: FastifyInstance;
  /** Base URL when started with `listen: true`. */
  readonly url: string;
}

export async function startApp(
  env: Record<string, string> = {},
  options: { listen?: boolean; logStream?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL,
    REDIS_URL: REDIS_SKIP === false ? REDIS_URL : '',
    APP_API_KEYS: `checkout:${KEYS.checkout},checkout:${KEYS.checkoutRotated},billing:${KEYS.billing}`,
    APP_ADMIN_API_KEYS: `ops:${KEYS.admin}`,
    LOG_LEVEL: 'silent',
    DB_POOL_SIZE: '10',
    RATE_LIMIT_MAX: '0',
    // Suites send many deliberate 401s from 127.0.0.1; test/http/auth-throttle.test.ts turns the throttle on.
    AUTH_FAILURE_LIMIT: '0',
    // CI runs the whole suite twice: with group commit (the default) and with BATCH_ENABLED=false.
    BATCH_ENABLED: process.env.BATCH_ENABLED ?? '',
    ...env,
  });
  const app = await buildApp({ config, databaseUrl: config.databaseUrl ?? DATABASE_URL, logStream: options.logStream });
  let url = '';
  if (options.listen === true) url = await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  after(() => app.close());
  return { app, url };
}

export const newKey = (): string => randomUUID();

export interface Fixture {
  readonly id: number;
}

/** A user with opening balances, created over HTTP with the admin key. */
export async function createUser(
  app: FastifyInstance,
  balances: Record<string, number | string> = { USD: 100 },
): Promise<Fixture> {
  const res = await app.inject({
    method: 'POST',
    url: '/users',
    headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'fixture', balances }),
  });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id };
}

export interface ChargeInput {
  user_id: unknown;
  amount: unknown;
  currency: unknown;
  [extra: string]: unknown;
}

export function chargeRequest(
  body: ChargeInput | string,
  key: string | undefined = newKey(),
  apiKey: string = KEYS.checkout,
) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey };
  if (key !== undefined) headers['idempotency-key'] = key;
  return {
    method: 'POST' as const,
    url: '/charge',
    headers,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** Balance in minor units, read over HTTP. */
export async function balanceMinor(app: FastifyInstance, userId: number, currency = 'USD'): Promise<number> {
  const res = await app.inject({ method: 'GET', url: `/users/${userId}`, headers: { 'x-api-key': KEYS.checkout } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().balances_minor[currency];
}

/** Direct SQL access for assertions the API does not expose (row counts, invariants). */
export function sql(): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  after(() => pool.end());
  return pool;
}

/** Registers the ledger invariants check to run after every test in the file. */
export function checkInvariantsAfterFile(): void {
  after(() => assertLedgerInvariants(DATABASE_URL));
}
