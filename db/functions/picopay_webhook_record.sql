-- Records one delivery attempt of event p_seq to an endpoint and moves the endpoint on: delivered, the position
-- advances and the lease is renewed for the next event; failed, the same event is due again after p_retry_ms (the
-- relay's backoff with jitter) and the lease is dropped, unless the endpoint has been failing for p_retry_period_ms:
-- then it is disabled, with the reason. Returns 'delivered', 'retry', 'disabled', or 'lost' when the lease is no
-- longer this instance's (expired and claimed by another, or the endpoint deleted): the caller stops, and the
-- attempt is still logged if the endpoint exists.
CREATE OR REPLACE FUNCTION picopay_webhook_record(p_endpoint bigint, p_owner text, p_seq bigint, p_webhook_id text,
  p_status integer, p_error text, p_delivered boolean, p_duration_ms integer, p_retry_ms integer,
  p_retry_period_ms bigint, p_lease_ms integer)
RETURNS text
LANGUAGE plpgsql
-- SECURITY DEFINER: the application role may not write webhook_endpoints or webhook_attempts; search_path pinned.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
  w webhook_endpoints%ROWTYPE;
  outcome text;
BEGIN
  SELECT * INTO w FROM webhook_endpoints e WHERE e.id = p_endpoint FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'lost';
  END IF;
  INSERT INTO webhook_attempts (endpoint_id, event_seq, webhook_id, attempt, status, error, delivered, duration_ms)
  VALUES (p_endpoint, p_seq, p_webhook_id,
          CASE WHEN w.delivered_seq < p_seq THEN w.failures + 1 ELSE 1 END,
          p_status, left(p_error, 500), p_delivered, p_duration_ms);
  IF w.lease_owner IS DISTINCT FROM p_owner OR w.delivered_seq >= p_seq THEN
    RETURN 'lost';
  END IF;
  IF p_delivered THEN
    UPDATE webhook_endpoints e
       SET delivered_seq = p_seq, failures = 0, failing_since = NULL, next_attempt_at = now(),
           lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
     WHERE e.id = p_endpoint;
    RETURN 'delivered';
  END IF;
  IF w.failing_since IS NOT NULL AND w.failing_since + p_retry_period_ms * interval '1 millisecond' <= now() THEN
    UPDATE webhook_endpoints e
       SET failures = w.failures + 1, disabled_at = now(), lease_owner = NULL, lease_until = NULL,
           disabled_reason = format('failing since %s (event %s, %s attempts); last: %s', w.failing_since, p_seq,
                                    w.failures + 1, coalesce(p_status::text, left(p_error, 200)))
     WHERE e.id = p_endpoint;
    outcome := 'disabled';
  ELSE
    UPDATE webhook_endpoints e
       SET failures = w.failures + 1, failing_since = coalesce(w.failing_since, now()),
           next_attempt_at = clock_timestamp() + p_retry_ms * interval '1 millisecond',
           lease_owner = NULL, lease_until = NULL
     WHERE e.id = p_endpoint;
    outcome := 'retry';
  END IF;
  RETURN outcome;
END $$;
