import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies pending migrations under node-pg-migrate's session advisory lock. Its default lock mode ('fail') makes
 * every instance but one fail when several start together; 'wait' lets them queue behind the one migrating, then
 * find nothing left to apply. The lock is held by one session across many statements, so this must connect to
 * PostgreSQL directly, never through a transaction-mode pooler (DATABASE_MIGRATION_URL).
 */
export async function migrate(databaseUrl: string, log: (message: string) => void = () => {}): Promise<number> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    advisoryLockMode: 'wait',
    log,
    logger: { debug: () => {}, info: log, warn: log, error: log },
  });
  return applied.length;
}
