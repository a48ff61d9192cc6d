-- The one renderer of a transaction object; every endpoint that shows a transaction goes through it. Compact JSON
-- built by hand so the bytes are fixed (json_build_object pads with " : "). A charge shows how much of it was refunded
-- and by which entries (read at render time, hence STABLE), a refund shows its charge, a hold entry its authorization. A response stored under an
-- Idempotency-Key keeps the state of its moment: a charge's stored response always says nothing was refunded.
-- plpgsql, not sql: called from plpgsql, a sql function is planned afresh on every call; plpgsql keeps its plans.
CREATE OR REPLACE FUNCTION picopay_transaction_json(e ledger_entries, exponent smallint, currency text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  links text := '';
  refunded bigint;
  refund_ids text;
BEGIN
  IF e.type = 'charge' THEN
    SELECT coalesce(sum(r.amount), 0), coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '')
      INTO refunded, refund_ids
      FROM ledger_entries r WHERE r.refund_of = e.id;
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
