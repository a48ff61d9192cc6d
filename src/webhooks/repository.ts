import type { Db } from '../db/pool.ts';

// Every statement of the webhooks module. Writes go through the SECURITY DEFINER functions
// (db/functions/picopay_webhook_*.sql); the admin reads select the columns the application role may see (never the
// secret, which only the relay's claim returns).

const ENDPOINT_COLUMNS = `id, url, description, event_types, created_by, created_at, delivered_seq, failures,
  failing_since, next_attempt_at, disabled_at, disabled_reason`;

export interface EndpointRow {
  readonly id: bigint;
  readonly url: string;
  readonly description: string | null;
  readonly event_types: string[];
  readonly created_by: string;
  readonly created_at: Date;
  readonly delivered_seq: bigint;
  readonly failures: number;
  readonly failing_since: Date | null;
  readonly next_attempt_at: Date;
  readonly disabled_at: Date | null;
  readonly disabled_reason: string | null;
}

export interface AttemptRow {
  readonly id: bigint;
  readonly event_seq: bigint;
  readonly webhook_id: string;
  readonly attempt: number;
  readonly status: number | null;
  readonly error: string | null;
  readonly delivered: boolean;
  readonly duration_ms: number;
  readonly attempted_at: Date;
}

export interface NewEndpoint {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly description: string | null;
  readonly secret: string;
  readonly createdBy: string;
}

/** What the relay needs to deliver to a claimed endpoint. */
export interface Claimed {
  readonly endpoint_id: bigint;
  readonly url: string;
  readonly event_types: string[];
  readonly secret: string;
  readonly delivered_seq: bigint;
  readonly failures: number;
}

export interface PublishedEvent {
  readonly seq: bigint;
  readonly type: string;
  readonly data: string;
  readonly created_at: Date;
}

export interface AttemptRecord {
  readonly endpointId: bigint;
  readonly owner: string;
  readonly seq: bigint;
  readonly webhookId: string;
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly delivered: boolean;
  readonly durationMs: number;
  readonly retryMs: number;
  readonly retryPeriodMs: number;
  readonly leaseMs: number;
}

export type RecordResult = 'delivered' | 'retry' | 'disabled' | 'lost';

/** One 2xx the relay holds in memory until its batch is recorded (recordDelivered). */
export interface Delivered {
  readonly seq: bigint;
  readonly webhookId: string;
  readonly status: number | null;
  readonly durationMs: number;
}

// The next events of the endpoint's types after its position, and the newest seq published (one snapshot): when
// none of the endpoint's types lies in between, its position may move up to that seq.
const NEXT_EVENTS_SQL = `
  SELECT e.seq, e.type, e.data, e.created_at, h.newest
    FROM (SELECT max(seq) AS newest FROM events) h
    LEFT JOIN LATERAL (
      SELECT seq, type, data, created_at FROM events
       WHERE seq > $1 AND seq <= h.newest AND ('*' = ANY ($2::text[]) OR type = ANY ($2::text[]))
       ORDER BY seq LIMIT $3) e ON true`;

export const webhookRepository = {
  async create(db: Db, e: NewEndpoint): Promise<bigint> {
    const { rows } = await db.query<{ id: bigint }>('SELECT picopay_webhook_create($1, $2::text[], $3, $4, $5) AS id', [
      e.url,
      e.eventTypes,
      e.description,
      e.secret,
      e.createdBy,
    ]);
    return rows[0]!.id;
  },
  async find(db: Db, id: bigint): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [
      id.toString(),
    ]);
    return rows[0];
  },
  async list(db: Db, after: bigint, limit: number): Promise<EndpointRow[]> {
    const { rows } = await db.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id > $1 ORDER BY id LIMIT $2`,
      [after.toString(), limit],
    );
    return rows;
  },
  async remove(db: Db, id: bigint): Promise<boolean> {
    const { rows } = await db.query<{ gone: boolean }>('SELECT picopay_webhook_delete($1) AS gone', [id.toString()]);
    return rows[0]!.gone;
  },
  async attempts(db: Db, endpointId: bigint, after: bigint, limit: number): Promise<AttemptRow[]> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT id, event_seq, webhook_id, attempt, status, error, delivered, duration_ms, attempted_at
         FROM webhook_attempts WHERE endpoint_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [endpointId.toString(), after.toString(), limit],
    );
    return rows;
  },
  async claim(db: Db, owner: string, leaseMs: number, limit: number): Promise<Claimed[]> {
    const { rows } = await db.query<Claimed>('SELECT * FROM picopay_webhook_claim($1, $2, $3)', [
      owner,
      leaseMs,
      limit,
    ]);
    return rows;
  },
  async nextEvents(db: Db, c: Claimed, limit: number): Promise<{ events: PublishedEvent[]; newest: bigint | null }> {
    const { rows } = await db.query<PublishedEvent & { newest: bigint | null }>(NEXT_EVENTS_SQL, [
      c.delivered_seq.toString(),
      c.event_types,
      limit,
    ]);
    return { events: rows.filter((r) => r.seq !== null), newest: rows[0]?.newest ?? null };
  },
  async record(db: Db, a: AttemptRecord): Promise<RecordResult> {
    const { rows } = await db.query<{ result: RecordResult }>(
      'SELECT picopay_webhook_record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS result',
      [
        a.endpointId.toString(),
        a.owner,
        a.seq.toString(),
        a.webhookId,
        a.status ?? null,
        a.error ?? null,
        a.delivered,
        a.durationMs,
        a.retryMs,
        a.retryPeriodMs,
        a.leaseMs,
      ],
    );
    return rows[0]!.result;
  },
  /** Records a run of successful deliveries (in seq order) in one call: 'delivered' or 'lost' (see the function). */
  async recordDelivered(
    db: Db,
    endpointId: bigint,
    owner: string,
    done: readonly Delivered[],
    leaseMs: number,
  ): Promise<'delivered' | 'lost'> {
    const { rows } = await db.query<{ result: 'delivered' | 'lost' }>(
      'SELECT picopay_webhook_record_delivered($1, $2, $3::bigint[], $4::text[], $5::integer[], $6::integer[], $7) AS result',
      [
        endpointId.toString(),
        owner,
        done.map((d) => d.seq.toString()),
        done.map((d) => d.webhookId),
        done.map((d) => d.status),
        done.map((d) => d.durationMs),
        leaseMs,
      ],
    );
    return rows[0]!.result;
  },
  async release(db: Db, endpointId: bigint, owner: string, skipTo: bigint | null): Promise<void> {
    await db.query('SELECT picopay_webhook_release($1, $2, $3)', [endpointId.toString(), owner, skipTo?.toString()]);
  },
  async purgeAttempts(db: Db, retentionMs: number, limit: number): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT picopay_webhook_purge_attempts($1::interval, $2) AS n', [
      `${retentionMs} milliseconds`,
      limit,
    ]);
    return rows[0]!.n;
  },
  /** Per enabled endpoint: the age of the oldest published event of its types it has not received (metrics). */
  async backlog(db: Db): Promise<{ id: bigint; age_seconds: number }[]> {
    const { rows } = await db.query<{ id: bigint; age_seconds: number }>(
      `SELECT w.id, coalesce(extract(epoch FROM now() - (
          SELECT e.created_at FROM events e
           WHERE e.seq > w.delivered_seq AND ('*' = ANY (w.event_types) OR e.type = ANY (w.event_types))
           ORDER BY e.seq LIMIT 1)), 0)::float8 AS age_seconds
         FROM webhook_endpoints w WHERE w.disabled_at IS NULL`,
    );
    return rows;
  },
};
