-- Why a debit found no row to debit: the decline that is recorded and replayed.
CREATE OR REPLACE FUNCTION picopay_decline(p_user_id bigint, p_currency text,
  OUT status smallint, OUT code text, OUT title text, OUT detail text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM accounts WHERE user_id = p_user_id AND currency = p_currency) THEN
    status := 400; code := 'insufficient_balance'; title := 'Insufficient balance'; detail := 'Insufficient balance';
  ELSIF EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
    status := 422; code := 'currency_not_supported'; title := 'Currency not supported';
    detail := 'User has no account in this currency';
  ELSE
    status := 404; code := 'user_not_found'; title := 'User not found'; detail := 'User not found';
  END IF;
END $$;
