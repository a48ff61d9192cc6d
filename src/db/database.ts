import path from 'node:path';
import { singleUrl, type Config } from '../config.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import type { AppRoleState } from './grants.ts';
import { migrate } from './migrate.ts';

export interface Database {
  /** What the server connects with: DATABASE_URL, or the embedded cluster's URL. */
  readonly url: string;
  /** What migrations ran with, and what the owner-only CLI commands (verify) use: DATABASE_MIGRATION_URL or url. */
  readonly ownerUrl: string;
  /**
   * The role the server's sessions switch to on connecting (the `role` startup parameter), or null: DATABASE_URL's
   * login is used as it is (two-URL mode, or a single-URL login that may not switch to the application role).
   */
  readonly sessionRole: string | null;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** The one start-up line about the database roles, and the session role it implies. */
function roleLine(config: Config, role: AppRoleState): { line: string; sessionRole: string | null } {
  if (!singleUrl(config)) {
    const grants = role.granted ? `grants to role ${role.name}` : `WARNING: role ${role.name} missing, nothing granted`;
    return {
      line: `database roles: migrations as ${role.login} (DATABASE_MIGRATION_URL), ${grants}; server sessions as DATABASE_URL's login`,
      sessionRole: null,
    };
  }
  if (role.granted && role.switchable) {
    return {
      line:
        `database roles: migrations as ${role.login}; server sessions SET ROLE ${role.name} (single-URL mode: ` +
        'a session could RESET ROLE; production logs in as the application role, see docs/DEPLOY.md)',
      sessionRole: role.name,
    };
  }
  return {
    line:
      `WARNING: database roles: ${role.login} cannot create or switch to role ${role.name}; server sessions run ` +
      `as ${role.login} with all its privileges (create the role or set DATABASE_MIGRATION_URL, see docs/DEPLOY.md)`,
    sessionRole: null,
  };
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in `<dataDir>/postgres`. Migrations applied either way,
 * through DATABASE_MIGRATION_URL when set.
 */
export async function openDatabase(config: Config, log: (message: string) => void): Promise<Database> {
  let database: Pick<Database, 'url' | 'embedded' | 'stop'>;
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
  let ownerUrl: string;
  let role: AppRoleState;
  try {
    // node-pg-migrate holds a session advisory lock across its statements: through a transaction-mode pooler the
    // lock and its release could land on different server connections, so DATABASE_MIGRATION_URL goes direct.
    // A database not yet accepting writes (an HA cluster without a leader) is waited for, up to a bound.
    ownerUrl = database.embedded ? database.url : (config.databaseMigrationUrl ?? database.url);
    const applied = await migrate(ownerUrl, undefined, { onWait: log, appRole: config.databaseAppRole });
    if (applied.versioned > 0) log(`applied ${applied.versioned} migration(s)`);
    if (applied.functions.length > 0) log(`applied ${applied.functions.length} function file(s)`);
    role = applied.appRole;
  } catch (error) {
    await database.stop();
    throw error;
  }
  const { line, sessionRole } = roleLine(config, role);
  log(line);
  return { ...database, ownerUrl, sessionRole };
}
