import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { isUnavailable, pingWritable } from './pool.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrateOptions {
  /**
   * How long to keep retrying while the database is unavailable or accepts no writes (default 60 s): a server still
   * starting, or an HA cluster electing a leader (HAProxy's write port refuses, or reaches a standby: SQLSTATE
   * 25006). Any other error fails at once.
   */
  readonly waitMs?: number;
  /** Told about each retry (start-up prints it). */
  readonly onWait?: (message: string) => void;
}

const DEFAULT_WAIT_MS = 60_000;
// node-pg-migrate's own client would wait for a connection with no bound (pg's default).
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Applies pending migrations under node-pg-migrate's session advisory lock, waiting (bounded) for a database that
 * accepts writes. Its default lock mode ('fail') makes every instance but one fail when several start together;
 * 'wait' lets them queue behind the one migrating, then find nothing left to apply. The lock is held by one session
 * across many statements, so this must connect to PostgreSQL directly, never through a transaction-mode pooler
 * (DATABASE_MIGRATION_URL). Each migration runs in its own transaction, so a retry after a lost connection applies
 * what is still pending.
 */
export async function migrate(
  databaseUrl: string,
  log: (message: string) => void = () => {},
  options: MigrateOptions = {},
): Promise<number> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      return await migrateOnce(databaseUrl, log);
    } catch (error) {
      if (!isUnavailable(error) || Date.now() + delayMs > deadline) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      options.onWait?.(`database not accepting writes yet (${reason}); migrating again in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function migrateOnce(databaseUrl: string, log: (message: string) => void): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection lost while idle between statements must not crash the process; the next statement reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    // A standby (or any read-only server) answers 25006 here, before node-pg-migrate wraps errors in its own.
    await pingWritable(client);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      checkOrder: true,
      advisoryLockMode: 'wait',
      log,
      logger: { debug: () => {}, info: log, warn: log, error: log },
    });
    return applied.length;
  } finally {
    await client.end().catch(() => {});
  }
}
