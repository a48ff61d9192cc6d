// After an overload or soak run: the ledger invariants (`npm run verify`'s checks, src/verify), no key charged twice,
// every key the generator saw accepted charged exactly once, and nothing written for any key it saw shed.
import pg from 'pg';
import { verifyLedger, type Violation } from '../src/verify/ledger-checks.ts';
import type { Outcome } from './generator-protocol.ts';

export interface LedgerReport {
  readonly violations: readonly Violation[];
  /** (client, key) pairs with more than one ledger entry. */
  readonly doubleCharges: number;
  readonly acceptedKeys: number;
  /** Accepted keys without exactly one ledger entry. */
  readonly acceptedNotOnce: number;
  readonly shedKeys: number;
  /** Shed keys with a ledger entry or an idempotency record: must be none, a shed request writes nothing. */
  readonly shedWritten: number;
  /** outcome_unknown keys that did commit (allowed: the retry would replay them), and with more than one entry. */
  readonly unknownCommitted: number;
  readonly unknownTwice: number;
  readonly ok: boolean;
}

/** Per key of `keys`: its ledger entries for `client` (and whether it has an idempotency record). */
const PER_KEY = `
  WITH k AS (SELECT DISTINCT unnest($1::text[]) AS key),
       e AS (SELECT idempotency_key AS key, count(*) AS n FROM ledger_entries
              WHERE client = $2 AND idempotency_key = ANY($1::text[]) GROUP BY idempotency_key)
  SELECT count(*) FILTER (WHERE coalesce(e.n, 0) <> 1)::int AS not_once,
         count(*) FILTER (WHERE coalesce(e.n, 0) > 0)::int AS written,
         count(*) FILTER (WHERE coalesce(e.n, 0) > 1)::int AS twice,
         (SELECT count(*)::int FROM idempotency_keys r WHERE r.client = $2 AND r.key = ANY($1::text[])) AS records
    FROM k LEFT JOIN e ON e.key = k.key`;

interface PerKey {
  not_once: number;
  written: number;
  twice: number;
  records: number;
}

export async function checkLedger(url: string, client: string, keys: Record<Outcome, string[]>): Promise<LedgerReport> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const violations = await verifyLedger(db);
    const doubles = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ledger_entries WHERE idempotency_key IS NOT NULL
         GROUP BY client, idempotency_key HAVING count(*) > 1) d`,
    );
    const per = async (list: string[]): Promise<PerKey> =>
      (await db.query<PerKey>(PER_KEY, [list, client])).rows[0] ?? { not_once: 0, written: 0, twice: 0, records: 0 };
    const accepted = await per(keys.accepted);
    const shed = await per(keys.shed);
    const unknown = await per(keys.unknown);
    const report = {
      violations,
      doubleCharges: doubles.rows[0]!.n,
      acceptedKeys: keys.accepted.length,
      acceptedNotOnce: accepted.not_once,
      shedKeys: keys.shed.length,
      shedWritten: shed.written + shed.records,
      unknownCommitted: unknown.written,
      unknownTwice: unknown.twice,
    };
    const ok =
      violations.length === 0 &&
      report.doubleCharges === 0 &&
      report.acceptedNotOnce === 0 &&
      report.shedWritten === 0 &&
      report.unknownTwice === 0;
    return { ...report, ok };
  } finally {
    await db.end();
  }
}
