-- Body of a successful charge, credit or refund: the message, the transaction object (rendered once by the caller,
-- which also writes it as the event's data) and the balance after it.
CREATE OR REPLACE FUNCTION picopay_money_body(message text, transaction_json text, a accounts) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN '{"message":' || picopay_json(message)
    || ',"transaction":' || transaction_json
    || ',"new_balance":' || picopay_major(a.balance, a.exponent)
    || ',"new_balance_minor":' || a.balance || '}';
END $$;
