-- Body of a successful charge, credit or refund: the message, the transaction and the balance after it.
CREATE OR REPLACE FUNCTION picopay_money_response(message text, e ledger_entries, a accounts) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN '{"message":' || picopay_json(message)
    || ',"transaction":' || picopay_transaction_json(e, a.exponent, a.currency)
    || ',"new_balance":' || picopay_major(a.balance, a.exponent)
    || ',"new_balance_minor":' || a.balance || '}';
END $$;
