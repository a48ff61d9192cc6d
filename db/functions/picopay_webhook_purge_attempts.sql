-- Deletes at most p_limit webhook attempts older than p_retention, oldest first, and returns how many: the delivery
-- log is for diagnosis, not a record of money (events and the ledger are), so it does not grow forever. Called by
-- the relay of every instance now and then; a short transaction each, found through the attempted_at index.
CREATE OR REPLACE FUNCTION picopay_webhook_purge_attempts(p_retention interval, p_limit integer)
RETURNS integer
LANGUAGE sql
-- SECURITY DEFINER: the application role may not delete webhook_attempts; search_path pinned (pg_temp last).
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
  WITH doomed AS (
    SELECT a.id FROM webhook_attempts a
     WHERE a.attempted_at < now() - p_retention
     ORDER BY a.attempted_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED),
  gone AS (DELETE FROM webhook_attempts a USING doomed d WHERE a.id = d.id RETURNING 1)
  SELECT count(*)::integer FROM gone;
$$;
