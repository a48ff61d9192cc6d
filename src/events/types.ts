// The closed list of event types (#18): what the SQL money functions write into the outbox, one per committed
// movement (db/functions/picopay_charge_batch.sql, picopay_post_entry.sql, picopay_record_charge_decline.sql,
// picopay_authorize.sql, picopay_capture.sql, picopay_void.sql, picopay_expire_account_holds.sql).
export const EVENT_TYPES = [
  'charge.succeeded',
  'charge.declined',
  'refund.succeeded',
  'credit.succeeded',
  'authorization.created',
  'authorization.captured',
  'authorization.voided',
  'authorization.expired',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** One type, or several separated by commas: the `type` filter of GET /events. */
export const EVENT_TYPE_LIST_PATTERN = `^(${EVENT_TYPES.join('|')})(,(${EVENT_TYPES.join('|')}))*$`.replaceAll(
  '.',
  '\\.',
);
