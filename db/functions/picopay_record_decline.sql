-- A final decline: record its problem body under the key (no ledger entry) and return it.
CREATE OR REPLACE FUNCTION picopay_record_decline(p_client text, p_key text, p_status smallint, p_code text,
  p_title text, p_detail text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  body text := picopay_problem(p_code, p_status, p_title, p_detail);
BEGIN
  PERFORM picopay_complete_key(p_client, p_key, p_status, p_code, body, NULL);
  RETURN body;
END $$;
