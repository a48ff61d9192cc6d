-- Records a run of successful deliveries to one endpoint in one transaction (the relay keeps them in memory while it
-- delivers a claimed batch, in seq order, and writes them at the batch's end, before recording a failure, and when
-- stopping): one attempt row per event, then the position moves to the highest seq, failures are cleared and the
-- lease is renewed. Returns 'delivered', or 'lost' when the lease is no longer this instance's (expired and claimed
-- by another, or the endpoint deleted): the caller stops, and the attempts are still logged if the endpoint exists.
-- Until this commits, those events are not recorded: a crash in between means they are delivered again (at least
-- once; receivers deduplicate on webhook-id).
CREATE OR REPLACE FUNCTION picopay_webhook_record_delivered(p_endpoint bigint, p_owner text, p_seqs bigint[],
  p_webhook_ids text[], p_statuses integer[], p_duration_ms integer[], p_lease_ms integer)
RETURNS text
LANGUAGE plpgsql
-- SECURITY DEFINER: the application role may not write webhook_endpoints or webhook_attempts; search_path pinned.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
  w webhook_endpoints%ROWTYPE;
  highest bigint;
BEGIN
  SELECT * INTO w FROM webhook_endpoints e WHERE e.id = p_endpoint FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'lost';
  END IF;
  -- Only the first event of the run can follow failed attempts (each later one was delivered at its first try).
  INSERT INTO webhook_attempts (endpoint_id, event_seq, webhook_id, attempt, status, error, delivered, duration_ms)
  SELECT p_endpoint, a.seq, a.webhook_id,
         CASE WHEN a.ord = 1 AND w.delivered_seq < a.seq THEN w.failures + 1 ELSE 1 END,
         a.status, NULL, true, a.duration_ms
    FROM unnest(p_seqs, p_webhook_ids, p_statuses, p_duration_ms) WITH ORDINALITY
         AS a(seq, webhook_id, status, duration_ms, ord)
   ORDER BY a.ord;
  highest := (SELECT max(s) FROM unnest(p_seqs) s);
  IF highest IS NULL OR w.lease_owner IS DISTINCT FROM p_owner OR w.delivered_seq >= highest THEN
    RETURN 'lost';
  END IF;
  UPDATE webhook_endpoints e
     SET delivered_seq = highest, failures = 0, failing_since = NULL, next_attempt_at = now(),
         lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
   WHERE e.id = p_endpoint;
  RETURN 'delivered';
END $$;
