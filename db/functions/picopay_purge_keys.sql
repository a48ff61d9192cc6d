-- One step of the purge: deletes at most p_limit expired idempotency records (picopay_key_expired), oldest first,
-- and returns how many. Each call is its own short transaction: rows are found through the created_at indexes, rows
-- a request holds are skipped (SKIP LOCKED; the next run takes them), so the purge never waits on traffic and never
-- holds many locks. One instance purges at a time: the others find the advisory lock taken (ran = false) and leave
-- the work to it. Ledger entries are never deleted; only the records that let a key replay.
CREATE OR REPLACE FUNCTION picopay_purge_keys(p_retention interval, p_decline_retention interval, p_limit integer,
  OUT deleted integer, OUT ran boolean)
LANGUAGE plpgsql
-- SECURITY DEFINER: deletes as the owner, for the server's purge running as the application role, which may not
-- touch idempotency_keys itself; search_path pinned (pg_temp last) so no schema the caller controls can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
-- Index scans whatever the statistics say (test/db/plans.test.ts).
SET enable_seqscan = off
AS $$
DECLARE
  short_lived integer;
BEGIN
  deleted := 0;
  -- A fixed key of PicoPay's own: 'picopay_purge_keys' as two int4.
  ran := pg_try_advisory_xact_lock(1885957744, 1885692261);
  IF NOT ran THEN
    RETURN;
  END IF;
  WITH doomed AS (
    SELECT k.client, k.key FROM idempotency_keys k
     WHERE k.created_at < now() - p_retention
     ORDER BY k.created_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED)
  DELETE FROM idempotency_keys k USING doomed d WHERE k.client = d.client AND k.key = d.key;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted < p_limit THEN
    WITH doomed AS (
      SELECT k.client, k.key FROM idempotency_keys k
       WHERE k.response_code IN ('user_not_found', 'charge_not_found') AND k.created_at < now() - p_decline_retention
       ORDER BY k.created_at
       LIMIT p_limit - deleted
         FOR UPDATE SKIP LOCKED)
    DELETE FROM idempotency_keys k USING doomed d WHERE k.client = d.client AND k.key = d.key;
    GET DIAGNOSTICS short_lived = ROW_COUNT;
    deleted := deleted + short_lived;
  END IF;
END $$;
