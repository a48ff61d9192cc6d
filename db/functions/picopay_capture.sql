-- Capture: debit all or part of a pending hold as a 'charge' entry linked to it (refundable like any charge), release
-- the rest, settle the hold as 'captured'. p_amounts: the amount in minor units at each ISO 4217 exponent 0..4
-- (index exponent + 1; NULL where it does not fit), since only the hold knows its currency; NULL: the whole hold. An
-- amount that does not fit the currency frees the key (outcome 'invalid_amount', with the exponent), as for refunds.
CREATE OR REPLACE FUNCTION picopay_capture(p_client text, p_key text, p_fingerprint bytea, p_authorization_id bigint,
  p_amounts bigint[], p_any boolean, p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text, OUT currency_exponent smallint)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner for the application role (db/grants.sql); search_path pinned, pg_temp last.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
  s record;
  h authorizations;
  acct accounts;
  v_amount bigint;
  v_entry bigint;
BEGIN
  SELECT * INTO s FROM picopay_settle_hold(p_client, p_key, 'capture', p_fingerprint, p_authorization_id, p_any,
                                         p_retention, p_decline_retention);
  outcome := s.outcome; status := s.status; code := s.code; body := s.body; h := s.h; acct := s.acct;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;
  v_amount := CASE WHEN p_amounts IS NULL THEN h.amount ELSE p_amounts[acct.exponent + 1] END;
  IF v_amount IS NULL THEN
    DELETE FROM idempotency_keys k WHERE k.client = p_client AND k.key = p_key;
    outcome := 'invalid_amount'; status := 422; code := 'validation_failed'; currency_exponent := acct.exponent;
    RETURN;
  END IF;
  IF v_amount > h.amount THEN
    outcome := 'declined'; status := 422; code := 'capture_exceeds_authorization';
    body := picopay_record_decline(p_client, p_key, status, code, 'Capture exceeds authorization',
                                   'The capture amount is more than the authorization holds');
    RETURN;
  END IF;

  UPDATE authorizations SET status = 'captured', captured = v_amount, settled_at = now() WHERE id = h.id
  RETURNING * INTO h;
  UPDATE accounts SET balance = balance - v_amount, held = held - h.amount WHERE id = acct.id RETURNING * INTO acct;
  v_entry := picopay_hold_entry(h, 'charge', -v_amount, acct.balance, p_client, p_key);
  IF v_amount < h.amount THEN
    PERFORM picopay_hold_entry(h, 'release', h.amount - v_amount, acct.balance, NULL, NULL);
  END IF;
  outcome := 'created'; status := 200;
  body := picopay_authorization_json(h, acct.exponent);
  -- The outbox (#18): the event in the same transaction, its data the response's authorization object.
  INSERT INTO events (type, client, user_id, data) VALUES ('authorization.captured', p_client, h.user_id, body);
  PERFORM picopay_complete_key(p_client, p_key, status, NULL, body, v_entry);
END $$;
