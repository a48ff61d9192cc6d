import { statement, type Db } from '../db/pool.ts';

// Every statement of the events module: the sequencer's pass and the purge's step are SQL functions
// (db/functions/picopay_sequence_events.sql, picopay_purge_events.sql), each its own short transaction; the feed is
// a keyset read by seq. Two feed statements, not one with `client = $2 OR $2 IS NULL`, so a client's read uses the
// (client, seq) index whatever the generic plan.
const SEQUENCE_SQL = 'SELECT sequenced, ran, lag_ms FROM picopay_sequence_events($1::integer)';
const PURGE_SQL = 'SELECT deleted, ran FROM picopay_purge_events($1::interval, $2::integer)';
const COLUMNS = 'seq, type, client, picopay_timestamp(created_at) AS created_at, data';
const FEED_ALL_SQL = `SELECT ${COLUMNS} FROM events
  WHERE seq > $1 AND ($2::text[] IS NULL OR type = ANY ($2)) ORDER BY seq LIMIT $3`;
const FEED_CLIENT_SQL = `SELECT ${COLUMNS} FROM events
  WHERE client = $4 AND seq > $1 AND ($2::text[] IS NULL OR type = ANY ($2)) ORDER BY seq LIMIT $3`;

export interface SequencePass {
  readonly sequenced: number;
  /** False: another instance is sequencing right now. */
  readonly ran: boolean;
  /** Milliseconds the oldest event of the pass waited for publication; null when none was sequenced. */
  readonly lagMs: number | null;
}

export interface FeedRequest {
  readonly after: bigint;
  readonly limit: number;
  readonly types: readonly string[] | null;
  /** Only this client's events; null: every client's (read:all). */
  readonly client: string | null;
}

export interface StoredEvent {
  readonly seq: string;
  readonly type: string;
  readonly client: string | null;
  readonly created_at: string;
  /** The object as the API returned it: compact JSON text, sent as it is. */
  readonly data: string;
}

export const eventRepository = {
  async sequence(db: Db, limit: number): Promise<SequencePass> {
    const { rows } = await db.query<{ sequenced: number; ran: boolean; lag_ms: number | null }>(
      statement(db, 'picopay_sequence_events', SEQUENCE_SQL, [limit]),
    );
    const row = rows[0];
    if (row === undefined) throw new Error('picopay_sequence_events returned no row');
    return { sequenced: Number(row.sequenced), ran: row.ran, lagMs: row.lag_ms === null ? null : Number(row.lag_ms) };
  },

  async purgeStep(db: Db, retentionMs: number, limit: number): Promise<{ deleted: number; ran: boolean }> {
    const values = [`${retentionMs} milliseconds`, limit];
    const { rows } = await db.query<{ deleted: number; ran: boolean }>(
      statement(db, 'picopay_purge_events', PURGE_SQL, values),
    );
    const row = rows[0];
    if (row === undefined) throw new Error('picopay_purge_events returned no row');
    return { deleted: Number(row.deleted), ran: row.ran };
  },

  async page(db: Db, r: FeedRequest): Promise<StoredEvent[]> {
    const values: unknown[] = [r.after.toString(), r.types, r.limit];
    const query =
      r.client === null
        ? statement(db, 'picopay_events_feed_all', FEED_ALL_SQL, values)
        : statement(db, 'picopay_events_feed_client', FEED_CLIENT_SQL, [...values, r.client]);
    const { rows } = await db.query<StoredEvent>(query);
    return rows;
  },
};
