import pg from 'pg';
import type { Config } from '../config.ts';

// INT8 (oid 20) as BigInt: money is never a float, not even for a moment.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

/**
 * Every wait is bounded: connecting and waiting for a free client (connectionTimeoutMillis; pg's default of 0
 * waits forever), each statement, each lock, and a transaction left idle by a crashed caller.
 */
export function createPool(config: Config, connectionString: string, applicationName = 'picopay'): Db {
  const pool = new pg.Pool({
    connectionString,
    max: config.dbPoolSize,
    connectionTimeoutMillis: config.dbConnectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.dbStatementTimeoutMs,
    lock_timeout: config.dbLockTimeoutMs,
    idle_in_transaction_session_timeout: config.dbStatementTimeoutMs,
    // A client-side bound too, for a server that stops answering without closing the socket.
    query_timeout: config.dbStatementTimeoutMs + 2000,
    keepAlive: true,
    application_name: applicationName,
    types,
  });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '08000', '08003', '08006', '08001', '08004', // connection exceptions
]);

/** True when the failure is the database being unreachable, overloaded or timing out: answer 503, retry later. */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('E'))) return true;
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|connect ECONNREFUSED|Cannot use a pool after calling end/i.test(
      message,
    )
  );
}
