-- Claims (client, key): the first statement of every money operation. A concurrent holder of the same key makes the
-- INSERT wait for its commit or rollback, bounded by lock_timeout. Returns outcome 'claimed', 'replayed' (with the
-- stored response), 'key_reused' (another request's fingerprint or operation) or 'key_in_use' (lock timeout).
CREATE OR REPLACE FUNCTION picopay_claim_key(p_client text, p_key text, p_operation text, p_fingerprint bytea,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  stored idempotency_keys;
BEGIN
  BEGIN
    INSERT INTO idempotency_keys (client, key, operation, fingerprint)
    VALUES (p_client, p_key, p_operation, p_fingerprint)
    ON CONFLICT (client, key) DO NOTHING;
  EXCEPTION WHEN lock_not_available THEN
    outcome := 'key_in_use';
    RETURN;
  END;
  IF FOUND THEN
    outcome := 'claimed';
    RETURN;
  END IF;
  SELECT * INTO stored FROM idempotency_keys k WHERE k.client = p_client AND k.key = p_key;
  IF stored.fingerprint <> p_fingerprint OR stored.operation <> p_operation THEN
    outcome := 'key_reused';
    RETURN;
  END IF;
  outcome := 'replayed';
  status := stored.response_status;
  code := stored.response_code;
  body := stored.response_body;
END $$;
