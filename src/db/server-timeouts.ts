import type { Config } from '../config.ts';
import { createPool } from './pool.ts';

// The server-side values, in milliseconds (pg_settings reports these three in ms).
const SERVER_TIMEOUTS = `
  SELECT name, setting::bigint AS ms FROM pg_settings
   WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')`;

export interface TimeoutCheck {
  /** Waits with no bound at all (0): a stuck lock would hold a request, and its connection, indefinitely. */
  readonly unbounded: readonly string[];
  /** Bounded, but not what the configuration asks for: `name is X ms, configured Y ms`. */
  readonly differing: readonly string[];
}

/**
 * What the server connections really enforce. Connected directly, the pool's startup parameters set the three
 * timeouts, so this always agrees with the configuration. Behind a transaction-mode PgBouncer those parameters
 * are dropped (ignore_startup_parameters) and the role's or database's defaults apply instead; an operator who
 * forgot `ALTER ROLE … SET lock_timeout` would otherwise run with unbounded lock waits and never know.
 */
export async function checkServerTimeouts(config: Config, databaseUrl: string): Promise<TimeoutCheck> {
  const pool = createPool({ ...config, dbPoolSize: 1 }, databaseUrl, { applicationName: 'picopay-check' });
  try {
    const { rows } = await pool.query<{ name: string; ms: bigint }>(SERVER_TIMEOUTS);
    const expected: Record<string, number> = {
      statement_timeout: config.dbStatementTimeoutMs,
      lock_timeout: config.dbLockTimeoutMs,
      idle_in_transaction_session_timeout: config.dbStatementTimeoutMs,
    };
    const unbounded: string[] = [];
    const differing: string[] = [];
    for (const { name, ms } of rows) {
      // PicoPay holds no transaction open between round trips, so an unbounded idle timeout is only a difference.
      if (ms === 0n && name !== 'idle_in_transaction_session_timeout') unbounded.push(name);
      else if (Number(ms) !== expected[name]) differing.push(`${name} is ${ms} ms, configured ${expected[name]} ms`);
    }
    return { unbounded, differing };
  } finally {
    await pool.end();
  }
}
