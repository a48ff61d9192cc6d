import pg from 'pg';
import type { Config } from '../config.ts';

// INT8 (oid 20) as BigInt: money is never a float, not even for a moment.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

// Whether this pool's connections may keep named (prepared) statements; read by statement() below.
const PREPARED = Symbol('picopay.preparedStatements');

export interface PoolOptions {
  /** pg's application_name, shown in pg_stat_activity. */
  readonly applicationName?: string;
  /** Overrides DB_CONNECT_TIMEOUT_MS (the replica pool gives up sooner: the primary can serve its reads). */
  readonly connectTimeoutMs?: number;
  /**
   * The role every connection switches to, set as the `role` startup parameter: no extra round trip, and the
   * pool's timeouts travel the same way. Undefined: the login role as it is.
   */
  readonly sessionRole?: string;
}

/**
 * The connection string with `-c role=<sessionRole>` added to its `options` startup parameter (kept: an operator's
 * own `options=-c search_path=…`). In the URL rather than the pool's config: pg lets the URL's `options` win.
 */
export function withSessionRole(connectionString: string, sessionRole: string | undefined): string {
  if (sessionRole === undefined) return connectionString;
  const url = new URL(connectionString);
  const own = url.searchParams.get('options');
  url.searchParams.set('options', [own, `-c role=${sessionRole}`].filter((o) => o !== null && o !== '').join(' '));
  return url.toString();
}

/**
 * Every wait is bounded: connecting and waiting for a free client (connectionTimeoutMillis; pg's default of 0
 * waits forever), each statement, each lock, and a transaction left idle by a crashed caller. The three server
 * timeouts go as startup parameters; a transaction-mode PgBouncer must be told to ignore them
 * (ignore_startup_parameters) and the role's defaults then bound the waits (see checkServerTimeouts).
 */
export function createPool(config: Config, connectionString: string, options: PoolOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: withSessionRole(connectionString, options.sessionRole),
    max: config.dbPoolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? config.dbConnectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.dbStatementTimeoutMs,
    lock_timeout: config.dbLockTimeoutMs,
    idle_in_transaction_session_timeout: config.dbStatementTimeoutMs,
    // A client-side bound too, for a server that stops answering without closing the socket.
    query_timeout: config.dbStatementTimeoutMs + 2000,
    keepAlive: true,
    application_name: options.applicationName ?? 'picopay',
    types,
  });
  // On the pool object, so a wrapper made with Object.create(pool) (tests count queries that way) inherits it.
  Object.defineProperty(pool, PREPARED, { value: config.dbPreparedStatements });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/**
 * The one way to send a statement PicoPay wants prepared once per connection. A transaction-mode pooler hands each
 * transaction any server connection, so a statement prepared on one is missing (or already taken) on the next;
 * with DB_PREPARED_STATEMENTS=false the name is dropped and PostgreSQL parses the statement on every call (the
 * unnamed statement lives only within its own Parse/Bind/Execute, which a pooler keeps together).
 */
export function statement(db: Db, name: string, text: string, values: unknown[]): pg.QueryConfig {
  const prepared = (db as { [PREPARED]?: boolean })[PREPARED] !== false;
  return prepared ? { name, text, values } : { text, values };
}

/** The one row a statement must return (a money function's outcome); its absence is a bug, thrown as such. */
export async function singleRow<Row extends pg.QueryResultRow>(
  db: Db,
  name: string,
  text: string,
  values: unknown[],
): Promise<Row> {
  const result = await db.query<Row>(statement(db, name, text, values));
  const row = result.rows[0];
  if (row === undefined) throw new Error(`${name} returned no row`);
  return row;
}

/** The liveness query of the replica in /ready. */
export async function ping(db: Db): Promise<void> {
  await db.query('SELECT 1');
}

/**
 * The primary's readiness query: answering is not enough, it must take writes. Behind HAProxy and Patroni the write
 * port can reach a standby for a moment during a failover (or a demoted leader keeps answering SELECT 1), and every
 * money operation would then fail; transaction_read_only is on in any standby session.
 */
export async function pingWritable(db: {
  query: (text: string) => Promise<pg.QueryResult<{ ro: string }>>;
}): Promise<void> {
  const { rows } = await db.query("SELECT current_setting('transaction_read_only') AS ro");
  if (rows[0]?.ro !== 'off') {
    throw Object.assign(new Error('the database server accepts no writes (a standby, or read-only)'), {
      code: '25006',
    });
  }
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
  '08000',
  '08003',
  '08006',
  '08001',
  '08004', // connection exceptions
  // read_only_sql_transaction: the write connection reached a standby. Behind HAProxy and Patroni that happens for
  // a moment during a failover or switchover (a new leader not yet promoted, an old one already demoted); the
  // statement did nothing, and the leader will be writable again shortly.
  '25006',
  // PgBouncer reports its own failures as protocol_violation: query_wait_timeout (no server connection freed in
  // time; the query was never sent), no server reachable, a server connection lost mid-query. From PostgreSQL itself
  // it would mean a client bug; either way a retry with the same Idempotency-Key is safe.
  '08P01',
]);

/** True when the failure is the database being unreachable, overloaded or timing out: answer 503, retry later. */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  // System errors (ECONNREFUSED, ETIMEDOUT, EAI_AGAIN…) pass; Node's own ERR_* codes (a TLS certificate that does
  // not match, say) are configuration errors that no wait will cure.
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || (code.startsWith('E') && !code.startsWith('ERR_'))))
    return true;
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|connect ECONNREFUSED|Cannot use a pool after calling end/i.test(
      message,
    )
  );
}
