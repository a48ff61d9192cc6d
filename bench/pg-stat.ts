// PostgreSQL's side of `npm run bench:cpu`: pg_stat_statements' top statements (when the server preloads the
// module; the bench-owned cluster does, with track=all so statements inside the PL/pgSQL functions show too) and
// sequential scans of the charge path's tables from pg_stat_user_tables.
import pg from 'pg';

export interface TopStatement {
  readonly query: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanUs: number;
  readonly rows: number;
}

export interface SeqScans {
  readonly table: string;
  readonly seqScans: number;
  readonly seqRowsRead: number;
  readonly indexScans: number;
}

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

/** Creates the extension in the bench's database; false (with the reason) when the server does not preload it. */
export async function enablePgStatStatements(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ libs: string }>(`SELECT current_setting('shared_preload_libraries') AS libs`);
    if (!rows[0]!.libs.split(',').some((l) => l.trim() === 'pg_stat_statements')) {
      return { ok: false, reason: `shared_preload_libraries is '${rows[0]!.libs}', without pg_stat_statements` };
    }
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return { ok: true };
  });
}

export const resetPgStatStatements = (url: string): Promise<void> =>
  withClient(url, async (c) => void (await c.query('SELECT pg_stat_statements_reset()')));

/** The statements of this database with the most execution time since the last reset; nested ones overlap their caller. */
export async function topStatements(url: string, limit = 10): Promise<TopStatement[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ query: string; calls: string; total: number; rows: string }>(
      `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, total_exec_time AS total, rows
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat%' -- the bench's own reads and resets
        ORDER BY total_exec_time DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      query: r.query.length > 110 ? `${r.query.slice(0, 107)}...` : r.query,
      calls: Number(r.calls),
      totalMs: Math.round(r.total),
      meanUs: Number(r.calls) === 0 ? 0 : Math.round((r.total * 1000) / Number(r.calls)),
      rows: Number(r.rows),
    }));
  });
}

/**
 * A backend flushes its table counters at most once a second while busy, and an idle one only after 10 s
 * (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): counters read right after a run miss its last second and the next run
 * gets them. Waiting this long before each read makes them exact.
 */
export const settleTableStats = (): Promise<void> => new Promise((r) => setTimeout(r, 11_000));

/** Cumulative scan counters of the tables a charge reads; the bench reports the difference across a run. */
export async function seqScans(url: string): Promise<SeqScans[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string }>(
      `SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables
        WHERE relname IN ('idempotency_keys', 'accounts', 'ledger_entries') ORDER BY relname`,
    );
    return rows.map((r) => ({
      table: r.relname,
      seqScans: Number(r.seq_scan),
      seqRowsRead: Number(r.seq_tup_read),
      indexScans: Number(r.idx_scan),
    }));
  });
}

export function seqScanDelta(before: readonly SeqScans[], after: readonly SeqScans[]): SeqScans[] {
  return after.map((a) => {
    const b = before.find((x) => x.table === a.table);
    return {
      table: a.table,
      seqScans: a.seqScans - (b?.seqScans ?? 0),
      seqRowsRead: a.seqRowsRead - (b?.seqRowsRead ?? 0),
      indexScans: a.indexScans - (b?.indexScans ?? 0),
    };
  });
}
