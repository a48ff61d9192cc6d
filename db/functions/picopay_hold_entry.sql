-- Appends a hold, release or capture entry of an authorization. Hold and release entries leave the balance as it is
-- (p_balance_after: the account's balance at that point of its ledger); a capture is a 'charge' after the debit.
-- Returns the entry's id.
CREATE OR REPLACE FUNCTION picopay_hold_entry(h authorizations, p_type text, p_signed_amount bigint,
  p_balance_after bigint, p_client text, p_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
BEGIN
  INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, client, idempotency_key,
                              description, metadata, authorization_id)
  VALUES (h.account_id, h.user_id, p_type, p_signed_amount, p_balance_after, p_client, p_key, h.description,
          h.metadata, h.id)
  RETURNING id INTO v_id;
  RETURN v_id;
END $$;
