-- A lone charge (BATCH_ENABLED=false) is a batch of one: the charge has one SQL implementation, picopay_charge_batch.
-- plpgsql, not sql: SECURITY DEFINER keeps a function from being inlined, and a non-inlined sql function is parsed
-- and planned again on every call, where plpgsql keeps its plan for the session (docs/BENCHMARKS.md, "A lone charge").
CREATE OR REPLACE FUNCTION picopay_charge(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_amount bigint, p_description text, p_metadata jsonb, p_retention interval,
  p_decline_retention interval, OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner, for a caller (the application role) that holds no write privilege itself;
-- search_path pinned so no schema the caller controls (pg_temp last: its tables are never found first) can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  SELECT b.outcome, b.status, b.code, b.body INTO outcome, status, code, body
    FROM picopay_charge_batch(ARRAY[p_client], ARRAY[p_key], ARRAY[p_fingerprint], ARRAY[p_user_id],
                              ARRAY[p_currency], ARRAY[p_amount], ARRAY[p_description], ARRAY[p_metadata],
                              p_retention, p_decline_retention) b;
END $$;
