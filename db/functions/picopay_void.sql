-- Void: release the whole of a pending hold ('release' entry), settle it as 'voided'.
CREATE OR REPLACE FUNCTION picopay_void(p_client text, p_key text, p_fingerprint bytea, p_authorization_id bigint,
  p_any boolean, p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner for the application role (db/grants.sql); search_path pinned, pg_temp last.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
  s record;
  h authorizations;
  acct accounts;
  v_entry bigint;
BEGIN
  SELECT * INTO s FROM picopay_settle_hold(p_client, p_key, 'void', p_fingerprint, p_authorization_id, p_any,
                                         p_retention, p_decline_retention);
  outcome := s.outcome; status := s.status; code := s.code; body := s.body; h := s.h; acct := s.acct;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;
  UPDATE authorizations SET status = 'voided', settled_at = now() WHERE id = h.id RETURNING * INTO h;
  UPDATE accounts SET held = held - h.amount WHERE id = acct.id;
  v_entry := picopay_hold_entry(h, 'release', h.amount, acct.balance, p_client, p_key);
  outcome := 'created'; status := 200;
  body := picopay_authorization_json(h, acct.exponent);
  -- The outbox (#18): the event in the same transaction, its data the response's authorization object.
  INSERT INTO events (type, client, user_id, data) VALUES ('authorization.voided', p_client, h.user_id, body);
  PERFORM picopay_complete_key(p_client, p_key, status, NULL, body, v_entry);
END $$;
