-- Claims (client, key): the first statement of every money operation. A concurrent holder of the same key makes the
-- INSERT wait for its commit or rollback, bounded by lock_timeout. Returns outcome 'claimed', 'replayed' (with the
-- stored response), 'key_reused' (another request's fingerprint or operation) or 'key_in_use' (lock timeout).
-- A record older than its retention (picopay_key_expired) is the past: it is deleted here and the key claimed anew,
-- even when the purge has not reached it yet. The delete locks the row, so a purge or a concurrent retry of the same
-- key waits or finds it gone; whoever inserts next holds the key, and every other request waits on it and replays it
-- (one outcome, never two). The attempts are bounded: a key that keeps changing under us is 'key_in_use'.
CREATE OR REPLACE FUNCTION picopay_claim_key(p_client text, p_key text, p_operation text, p_fingerprint bytea,
  p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  stored idempotency_keys;
BEGIN
  FOR attempt IN 1 .. 3 LOOP
    BEGIN
      INSERT INTO idempotency_keys (client, key, operation, fingerprint)
      VALUES (p_client, p_key, p_operation, p_fingerprint)
      ON CONFLICT (client, key) DO NOTHING;
      IF FOUND THEN
        outcome := 'claimed';
        RETURN;
      END IF;
      SELECT * INTO stored FROM idempotency_keys k WHERE k.client = p_client AND k.key = p_key;
      IF FOUND AND picopay_key_expired(stored.created_at, stored.response_code, p_retention, p_decline_retention) THEN
        DELETE FROM idempotency_keys k
         WHERE k.client = p_client AND k.key = p_key AND k.created_at = stored.created_at;
        CONTINUE;
      END IF;
    EXCEPTION WHEN lock_not_available THEN
      outcome := 'key_in_use';
      RETURN;
    END;
    IF NOT FOUND THEN
      CONTINUE; -- purged between the insert and the select: claim again
    END IF;
    IF stored.fingerprint <> p_fingerprint OR stored.operation <> p_operation THEN
      outcome := 'key_reused';
      RETURN;
    END IF;
    outcome := 'replayed';
    status := stored.response_status;
    code := stored.response_code;
    body := stored.response_body;
    RETURN;
  END LOOP;
  outcome := 'key_in_use';
END $$;
