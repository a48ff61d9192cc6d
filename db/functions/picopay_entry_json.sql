-- The one renderer of a transaction object's bytes, from the entry and what is known of its refunds (refunded NULL:
-- not a charge). The transaction renderer looks the refunds up; a charge being created has none, so the charge batch
-- renders it here directly, once for its response and its event (#16). Compact JSON built by hand so the bytes are
-- fixed (json_build_object pads with " : "). (Mentioning another function by name here would make this file depend
-- on it: db/functions are applied in the order their texts name each other.)
CREATE OR REPLACE FUNCTION picopay_entry_json(e ledger_entries, exponent smallint, currency text, refunded bigint,
  refund_ids text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  links text := '';
BEGIN
  IF refunded IS NOT NULL THEN
    links := ',"amount_refunded":' || picopay_major(refunded, exponent) || ',"amount_refunded_minor":' || refunded
          || ',"refunds":[' || refund_ids || ']';
  ELSIF e.type = 'refund' THEN
    links := ',"charge_id":' || e.refund_of;
  END IF;
  -- A hold, a release, or a charge that captured a hold: the authorization it belongs to.
  IF e.authorization_id IS NOT NULL THEN
    links := links || ',"authorization_id":' || e.authorization_id;
  END IF;
  RETURN '{"id":' || e.id
    || ',"type":' || picopay_json(e.type)
    || ',"user_id":' || e.user_id
    || ',"amount":' || picopay_major(abs(e.amount), exponent)
    || ',"amount_minor":' || abs(e.amount)
    || ',"signed_amount":' || picopay_major(e.amount, exponent)
    || ',"signed_amount_minor":' || e.amount
    || ',"currency":' || picopay_json(currency)
    || ',"status":"completed"'
    || ',"idempotency_key":' || picopay_json(e.idempotency_key)
    || ',"description":' || picopay_json(e.description)
    || ',"metadata":' || picopay_json(e.metadata)
    || ',"balance_after":' || picopay_major(e.balance_after, exponent)
    || ',"balance_after_minor":' || e.balance_after
    || ',"created_at":"' || picopay_timestamp(e.created_at) || '"'
    || links || '}';
END $$;
