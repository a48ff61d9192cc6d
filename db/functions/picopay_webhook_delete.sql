-- Deletes a webhook endpoint and its attempt log (DELETE /webhook-endpoints/{id}); false when there was none. A
-- delivery in flight finds its lease gone when it records the attempt and stops.
CREATE OR REPLACE FUNCTION picopay_webhook_delete(p_id bigint)
RETURNS boolean
LANGUAGE sql
-- SECURITY DEFINER: the application role may not write webhook_endpoints; search_path pinned (pg_temp last).
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
  WITH gone AS (DELETE FROM webhook_endpoints w WHERE w.id = p_id RETURNING w.id)
  SELECT EXISTS (SELECT FROM gone);
$$;
