-- An entry as a viewer sees it in a user's history. Another client's entry keeps its amounts and balances but not
-- the idempotency key, description and metadata that client chose, which may name its customers or orders. A NULL
-- viewer (a key holding read:all) sees everything; opening balances (no client) are nobody's secret.
CREATE OR REPLACE FUNCTION picopay_redacted(e ledger_entries, p_viewer text) RETURNS ledger_entries
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_viewer IS NOT NULL AND e.client IS NOT NULL AND e.client <> p_viewer THEN
    e.idempotency_key := NULL;
    e.description := NULL;
    e.metadata := NULL;
  END IF;
  RETURN e;
END $$;
