-- The sweeper: settles expired holds so available balances are right even when nobody touches the account. One
-- instance at a time (a transaction-level advisory lock; another instance's sweep returns -1 at once). Accounts
-- locked by a money operation right now are skipped: that operation or the next sweep settles them. Up to p_limit
-- accounts per call; returns how many holds it released (the server's holds_total{transition="expired"}).
CREATE OR REPLACE FUNCTION picopay_expire_holds(p_limit int) RETURNS int
LANGUAGE plpgsql
-- SECURITY DEFINER: the server's sweeper runs as the application role (db/grants.sql); search_path pinned.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
  acct accounts;
  v_done int := 0;
  v_holds int;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('picopay_expire_holds')) THEN
    RETURN -1;
  END IF;
  FOR acct IN SELECT * FROM accounts
               WHERE id IN (SELECT DISTINCT h.account_id FROM authorizations h
                             WHERE h.status = 'pending' AND h.expires_at <= now() LIMIT p_limit)
               ORDER BY id
                 FOR UPDATE SKIP LOCKED LOOP
    -- Counted first: under the account's lock (every hold operation takes it) these are the holds expired next.
    SELECT count(*) INTO v_holds FROM authorizations h
     WHERE h.account_id = acct.id AND h.status = 'pending' AND h.expires_at <= now();
    PERFORM picopay_expire_account_holds(acct.id, acct.balance);
    v_done := v_done + v_holds;
  END LOOP;
  RETURN v_done;
END $$;
