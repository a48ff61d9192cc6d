import path from 'node:path';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';

export interface Database {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in `<dataDir>/postgres`. Migrations applied either way,
 * through DATABASE_MIGRATION_URL when set.
 */
export async function openDatabase(config: Config, log: (message: string) => void): Promise<Database> {
  let database: Database;
  if (config.databaseUrl !== undefined) {
    database = { url: config.databaseUrl, embedded: false, stop: async () => {} };
  } else {
    log(`no DATABASE_URL: using embedded PostgreSQL (data in ${path.resolve(config.dataDir, 'postgres')})`);
    const embedded = await startEmbeddedPostgres({
      dataDir: path.resolve(config.dataDir),
      port: config.embeddedPgPort,
      database: 'picopay',
      log,
    });
    database = { url: embedded.url, embedded: true, stop: () => embedded.stop() };
  }
  try {
    // node-pg-migrate holds a session advisory lock across its statements: through a transaction-mode pooler the
    // lock and its release could land on different server connections, so DATABASE_MIGRATION_URL goes direct.
    // A database not yet accepting writes (an HA cluster without a leader) is waited for, up to a bound.
    const url = database.embedded ? database.url : (config.databaseMigrationUrl ?? database.url);
    const applied = await migrate(url, undefined, { onWait: log });
    if (applied.versioned > 0) log(`applied ${applied.versioned} migration(s)`);
    if (applied.functions.length > 0) log(`applied ${applied.functions.length} function file(s)`);
  } catch (error) {
    await database.stop();
    throw error;
  }
  return database;
}
