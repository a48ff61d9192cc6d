import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const GRANTS_FILE = fileURLToPath(new URL('../../db/grants.sql', import.meta.url));
export const DEFAULT_APP_ROLE = 'picopay_app';

/** What the grants step found out about the application role, as seen from the migrating login. */
export interface AppRoleState {
  readonly name: string;
  /** The role exists (created here, or by the operator) and holds the grants of db/grants.sql. */
  readonly granted: boolean;
  /** The migrating login may SET ROLE to it: single-URL mode can run the server's sessions under it. */
  readonly switchable: boolean;
  /** The migrating login (session_user), for the start-up line. */
  readonly login: string;
}

/**
 * Applies db/grants.sql for `role` (created when missing and the login may create roles), then checks whether the
 * migrating login can switch to it. The caller holds the migration lock.
 */
export async function applyGrants(client: pg.ClientBase, role: string): Promise<AppRoleState> {
  await client.query(`SELECT set_config('picopay.app_role', $1, false)`, [role]);
  try {
    await client.query(readFileSync(GRANTS_FILE, 'utf8'));
  } catch (error) {
    throw new Error(`db/grants.sql: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // CASE: has_table_privilege() raises for a role that does not exist.
  const { rows } = await client.query<{ granted: boolean; login: string }>(
    `SELECT session_user AS login,
            CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = $1)
                 THEN has_table_privilege($1, 'ledger_entries', 'SELECT') ELSE false END AS granted`,
    [role],
  );
  const { granted, login } = rows[0]!;
  return { name: role, granted, switchable: await canSwitchTo(client, role), login };
}

/** Tried rather than derived from catalogs: membership rules differ across PostgreSQL versions (16 added SET). */
async function canSwitchTo(client: pg.ClientBase, role: string): Promise<boolean> {
  await client.query('BEGIN');
  try {
    // The name passed DATABASE_APP_ROLE's identifier check, so quoting it is enough.
    await client.query(`SET LOCAL ROLE "${role}"`);
    return true;
  } catch {
    return false;
  } finally {
    await client.query('ROLLBACK');
  }
}
