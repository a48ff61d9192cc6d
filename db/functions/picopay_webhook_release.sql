-- The relay is done with an endpoint for now: drops its lease and, when it found no event of the endpoint's types up
-- to p_skip_to (the newest seq it saw), moves the endpoint's position there so the next pass does not scan the same
-- events again. Nothing happens if the lease is no longer this instance's.
CREATE OR REPLACE FUNCTION picopay_webhook_release(p_endpoint bigint, p_owner text, p_skip_to bigint)
RETURNS void
LANGUAGE sql
-- SECURITY DEFINER: the application role may not write webhook_endpoints; search_path pinned (pg_temp last).
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
  UPDATE webhook_endpoints w
     SET lease_owner = NULL, lease_until = NULL,
         delivered_seq = CASE WHEN w.failures = 0 THEN greatest(w.delivered_seq, coalesce(p_skip_to, 0))
                              ELSE w.delivered_seq END
   WHERE w.id = p_endpoint AND w.lease_owner = p_owner;
$$;
