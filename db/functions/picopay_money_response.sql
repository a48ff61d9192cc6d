-- Body of a successful money movement from its entry. Nothing in this version calls it (the callers render the
-- transaction once and use picopay_money_body); it stays one release so that a database upgraded under running
-- instances never has a charge function whose body names a missing function. Drop it in the next versioned migration.
CREATE OR REPLACE FUNCTION picopay_money_response(message text, e ledger_entries, a accounts) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN picopay_money_body(message, picopay_transaction_json(e, a.exponent, a.currency), a);
END $$;
