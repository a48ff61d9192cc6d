import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { applyFunctionFiles, loadFunctionFiles } from './function-files.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
export const FUNCTIONS_DIR = fileURLToPath(new URL('../../db/functions', import.meta.url));

// Held for the whole migration (versioned files, then function files), so instances starting together queue here.
const MIGRATION_LOCK = 7_350_001;

export interface MigrationResult {
  /** Versioned migrations applied (tables, indexes, data, function drops). */
  readonly versioned: number;
  /** Function files (re)applied because they were new or had changed. */
  readonly functions: readonly string[];
}

/**
 * Brings the database up to date: pending versioned migrations (node-pg-migrate), then every db/functions/ file whose
 * checksum changed, all under one session advisory lock. The lock is held by one session across many statements, so
 * this must connect to PostgreSQL directly, never through a transaction-mode pooler (DATABASE_MIGRATION_URL).
 */
export async function migrate(
  databaseUrl: string,
  log: (message: string) => void = () => {},
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'picopay-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const versioned = await runner({
      databaseUrl,
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
    return { versioned: versioned.length, functions };
  } finally {
    await client.end().catch(() => {});
  }
}
