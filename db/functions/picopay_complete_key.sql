-- Stores a claimed key's final response (and its ledger entry, for a success) in the claiming transaction.
CREATE OR REPLACE FUNCTION picopay_complete_key(p_client text, p_key text, p_status smallint, p_code text, p_body text,
  p_entry_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE idempotency_keys
     SET response_status = p_status, response_code = p_code, response_body = p_body, ledger_entry_id = p_entry_id
   WHERE client = p_client AND key = p_key;
END $$;
