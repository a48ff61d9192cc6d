import { singleRow, statement, type Db } from '../db/pool.ts';
import type { KeyScope, OutcomeRow } from '../payments/types.ts';

// Every statement of the holds module. Each operation is one SQL function (db/functions/picopay_authorize.sql,
// picopay_capture.sql, picopay_void.sql, picopay_expire_holds.sql): one transaction, one round trip.
// The last two arguments of each money call are the idempotency retentions (src/idempotency/retention.ts).
const AUTHORIZE_SQL = `SELECT outcome, status, code, body FROM picopay_authorize(
  $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::interval, $11::interval)`;
const CAPTURE_SQL = `SELECT outcome, status, code, body, currency_exponent FROM picopay_capture(
  $1, $2, $3, $4, $5::bigint[], $6, $7::interval, $8::interval)`;
const VOID_SQL = `SELECT outcome, status, code, body FROM picopay_void(
  $1, $2, $3, $4, $5, $6::interval, $7::interval)`;
const EXPIRE_SQL = 'SELECT picopay_expire_holds($1) AS holds';
const AUTHORIZATION_JSON = `
  SELECT picopay_authorization_json(h, a.exponent) AS json, h.client
    FROM authorizations h JOIN accounts a ON a.id = h.account_id
   WHERE h.id = $1`;

/** How long the call's idempotency record replays: retentionIntervals() of the configured retention. */
interface Retained {
  readonly retention: readonly [string, string];
}

export interface AuthorizeCall extends KeyScope, Retained {
  readonly userId: bigint;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly expiresInSeconds: number;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SettleCall extends KeyScope, Retained {
  readonly authorizationId: bigint;
  /** The caller may settle any client's hold; otherwise another client's is not found. */
  readonly any: boolean;
}

export interface CaptureCall extends SettleCall {
  /** Minor units at each exponent 0..4 (null where the amount does not fit it); null: the whole hold. */
  readonly amounts: readonly (bigint | null)[] | null;
}

export interface FoundAuthorization {
  readonly json: string;
  readonly client: string;
}

export const holdRepository = {
  authorize: (db: Db, c: AuthorizeCall): Promise<OutcomeRow> =>
    singleRow<OutcomeRow>(db, 'picopay_authorize', AUTHORIZE_SQL, [
      c.client,
      c.key,
      c.fingerprint,
      c.userId.toString(),
      c.currency,
      c.amountMinor.toString(),
      c.expiresInSeconds,
      c.description,
      JSON.stringify(c.metadata),
      ...c.retention,
    ]),

  capture: (db: Db, c: CaptureCall): Promise<OutcomeRow> =>
    singleRow<OutcomeRow>(db, 'picopay_capture', CAPTURE_SQL, [
      c.client,
      c.key,
      c.fingerprint,
      c.authorizationId.toString(),
      c.amounts?.map((a) => a?.toString() ?? null) ?? null,
      c.any,
      ...c.retention,
    ]),

  void: (db: Db, c: SettleCall): Promise<OutcomeRow> =>
    singleRow<OutcomeRow>(db, 'picopay_void', VOID_SQL, [
      c.client,
      c.key,
      c.fingerprint,
      c.authorizationId.toString(),
      c.any,
      ...c.retention,
    ]),

  async find(db: Db, id: bigint): Promise<FoundAuthorization | undefined> {
    const result = await db.query<FoundAuthorization>(
      statement(db, 'authorization_json', AUTHORIZATION_JSON, [id.toString()]),
    );
    return result.rows[0];
  },

  /** Settles expired holds of up to `limit` accounts; how many holds, or -1 when another instance is sweeping. */
  async expire(db: Db, limit: number): Promise<number> {
    const result = await db.query<{ holds: number }>(EXPIRE_SQL, [limit]);
    return result.rows[0]!.holds;
  },
};
