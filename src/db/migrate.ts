import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { applyFunctionFiles, loadFunctionFiles } from './function-files.ts';
import { applyGrants, DEFAULT_APP_ROLE, type AppRoleState } from './grants.ts';
import { isUnavailable, pingWritable } from './pool.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
export const FUNCTIONS_DIR = fileURLToPath(new URL('../../db/functions', import.meta.url));

// Held for the whole migration (versioned files, then function files), so instances starting together queue here.
const MIGRATION_LOCK = 7_350_001;
const DEFAULT_WAIT_MS = 60_000;
// pg's own default would wait for a connection with no bound.
const CONNECT_TIMEOUT_MS = 5_000;

export interface MigrationResult {
  /** Versioned migrations applied (tables, indexes, data, function drops). */
  readonly versioned: number;
  /** Function files (re)applied because they were new or had changed. */
  readonly functions: readonly string[];
  /** The application role after db/grants.sql. */
  readonly appRole: AppRoleState;
}

export interface MigrateOptions {
  /**
   * How long to keep retrying while the database is unavailable or accepts no writes (default 60 s): a server still
   * starting, or an HA cluster electing a leader (HAProxy's write port refuses, or reaches a standby: SQLSTATE
   * 25006). Any other error fails at once.
   */
  readonly waitMs?: number;
  /** Told about each retry (start-up prints it). */
  readonly onWait?: (message: string) => void;
  /** The least-privileged role db/grants.sql grants to (DATABASE_APP_ROLE, default picopay_app). */
  readonly appRole?: string;
}

/**
 * Brings the database up to date, waiting (bounded) for one that accepts writes: pending versioned migrations
 * (node-pg-migrate), then every db/functions/ file whose checksum changed, then db/grants.sql for the application
 * role, all under one session advisory lock. The
 * lock is held by one session across many statements, so this must connect to PostgreSQL directly, never through a
 * transaction-mode pooler (DATABASE_MIGRATION_URL). Each migration and the function step run in their own
 * transactions, so a retry after a lost connection applies what is still pending.
 */
export async function migrate(
  databaseUrl: string,
  log: (message: string) => void = () => {},
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      return await migrateOnce(databaseUrl, log, options.appRole ?? DEFAULT_APP_ROLE);
    } catch (error) {
      if (!isUnavailable(error) || Date.now() + delayMs > deadline) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      options.onWait?.(`database not accepting writes yet (${reason}); migrating again in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function migrateOnce(
  databaseUrl: string,
  log: (message: string) => void,
  appRole: string,
): Promise<MigrationResult> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'picopay-migrate',
  });
  // A connection lost while idle between statements must not crash the process; the next statement reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    // A standby (or any read-only server) answers 25006 here, before node-pg-migrate wraps errors in its own.
    await pingWritable(client);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const versioned = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      checkOrder: true,
      // Our lock already serialises migrators; 'wait' rather than 'fail' for a migrator of an older release.
      advisoryLockMode: 'wait',
      log,
      logger: { debug: () => {}, info: log, warn: log, error: log },
    });
    const functions = await applyFunctionFiles(client, loadFunctionFiles(FUNCTIONS_DIR));
    // Last, so functions created or re-created above lose PUBLIC's default EXECUTE before anyone can call them.
    const role = await applyGrants(client, appRole);
    return { versioned: versioned.length, functions, appRole: role };
  } finally {
    // Ending the session releases the advisory lock.
    await client.end().catch(() => {});
  }
}
