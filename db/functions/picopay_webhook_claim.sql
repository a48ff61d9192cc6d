-- The relay's claim: leases at most p_limit enabled endpoints that are due and not leased by a live instance, and
-- returns what delivering needs (the secret included: the application role cannot read it otherwise). FOR UPDATE
-- SKIP LOCKED: instances claiming at the same moment take different endpoints and never wait on each other. The
-- lease outlasts a delivery's timeout, so an endpoint is delivered by one instance at a time; a lease left by a dead
-- instance expires and the endpoint is claimed again (the unacknowledged event is then delivered again).
CREATE OR REPLACE FUNCTION picopay_webhook_claim(p_owner text, p_lease_ms integer, p_limit integer)
RETURNS TABLE (endpoint_id bigint, url text, event_types text[], secret text, delivered_seq bigint, failures integer)
LANGUAGE plpgsql
-- SECURITY DEFINER: the application role may not write webhook_endpoints; search_path pinned (pg_temp last).
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT w.id FROM webhook_endpoints w
     WHERE w.disabled_at IS NULL AND w.next_attempt_at <= now()
       AND (w.lease_until IS NULL OR w.lease_until < clock_timestamp())
     ORDER BY w.next_attempt_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED)
  UPDATE webhook_endpoints w
     SET lease_owner = p_owner, lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
    FROM due WHERE w.id = due.id
  RETURNING w.id, w.url, w.event_types, w.secret, w.delivered_seq, w.failures;
END $$;
