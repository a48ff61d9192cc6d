-- One step of the events retention (EVENT_RETENTION): deletes at most p_limit events older than p_retention, oldest
-- first, and returns how many. Like picopay_purge_keys: its own short transaction, rows found through the created_at
-- index, one instance at a time (the others get ran = false). Ledger entries stay; only their published copies go.
CREATE OR REPLACE FUNCTION picopay_purge_events(p_retention interval, p_limit integer,
  OUT deleted integer, OUT ran boolean)
LANGUAGE plpgsql
-- SECURITY DEFINER: deletes as the owner, for the server's purge running as the application role, which may only
-- read events; search_path pinned (pg_temp last) so no schema the caller controls can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
BEGIN
  deleted := 0;
  -- A fixed key of PicoPay's own: 'picopay_purge_events' as two int4.
  ran := pg_try_advisory_xact_lock(1885957744, 1885697638);
  IF NOT ran THEN
    RETURN;
  END IF;
  WITH doomed AS (
    SELECT e.id FROM events e
     WHERE e.created_at < now() - p_retention
     ORDER BY e.created_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED)
  DELETE FROM events e USING doomed d WHERE e.id = d.id;
  GET DIAGNOSTICS deleted = ROW_COUNT;
END $$;
