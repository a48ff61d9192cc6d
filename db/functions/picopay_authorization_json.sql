-- The one renderer of an authorization (hold) object. A pending hold past its expiry is shown as the sweeper will
-- leave it (expired, nothing held, everything released), so reads are right before anyone settles it. Compact JSON
-- built by hand so the bytes are fixed; a stored response keeps the state of its moment.
CREATE OR REPLACE FUNCTION picopay_authorization_json(h authorizations, exponent smallint) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  v_status text := CASE WHEN h.status = 'pending' AND h.expires_at <= now() THEN 'expired' ELSE h.status END;
  v_held bigint := CASE WHEN v_status = 'pending' THEN h.amount ELSE 0 END;
  v_released bigint := CASE WHEN v_status = 'pending' THEN 0 ELSE h.amount - h.captured END;
  v_capture_id bigint;
BEGIN
  IF h.status = 'captured' THEN
    SELECT e.id INTO v_capture_id FROM ledger_entries e WHERE e.authorization_id = h.id AND e.type = 'charge';
  END IF;
  RETURN '{"id":' || h.id
    || ',"user_id":' || h.user_id
    || ',"currency":' || picopay_json(h.currency)
    || ',"status":' || picopay_json(v_status)
    || ',"amount":' || picopay_major(h.amount, exponent)
    || ',"amount_minor":' || h.amount
    || ',"amount_held":' || picopay_major(v_held, exponent)
    || ',"amount_held_minor":' || v_held
    || ',"amount_captured":' || picopay_major(h.captured, exponent)
    || ',"amount_captured_minor":' || h.captured
    || ',"amount_released":' || picopay_major(v_released, exponent)
    || ',"amount_released_minor":' || v_released
    || ',"capture_id":' || picopay_json(v_capture_id)
    || ',"idempotency_key":' || picopay_json(h.idempotency_key)
    || ',"description":' || picopay_json(h.description)
    || ',"metadata":' || picopay_json(h.metadata)
    || ',"expires_at":"' || picopay_timestamp(h.expires_at) || '"'
    || ',"created_at":"' || picopay_timestamp(h.created_at) || '"}';
END $$;
