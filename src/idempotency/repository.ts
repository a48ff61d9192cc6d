import { statement, type Db } from '../db/pool.ts';
import { retentionIntervals, type Retention } from './retention.ts';

// Every statement of the idempotency module: one step of the purge (db/functions/picopay_purge_keys.sql), its own
// short transaction.
const PURGE_SQL = 'SELECT deleted, ran FROM picopay_purge_keys($1::interval, $2::interval, $3::integer)';

export interface PurgeStep {
  /** Records deleted by this step. */
  readonly deleted: number;
  /** False: another instance holds the purge lock, nothing was done. */
  readonly ran: boolean;
}

export async function purgeStep(db: Db, retention: Retention, limit: number): Promise<PurgeStep> {
  const values = [...retentionIntervals(retention), limit];
  const { rows } = await db.query<PurgeStep>(statement(db, 'picopay_purge_keys', PURGE_SQL, values));
  const row = rows[0];
  if (row === undefined) throw new Error('picopay_purge_keys returned no row');
  return { deleted: Number(row.deleted), ran: row.ran };
}
