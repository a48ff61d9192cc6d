-- Lazy expiry: settles the account's pending holds past their expiry (status 'expired', a release entry each, held
-- lowered). The caller holds the account's row lock; p_balance is the account's balance at this point of its ledger
-- (a charge batch knows it before writing it). Writes one authorization.expired event per hold. Returns the amount
-- released.
CREATE OR REPLACE FUNCTION picopay_expire_account_holds(p_account_id bigint, p_balance bigint) RETURNS bigint
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
  h authorizations;
  v_released bigint := 0;
  v_exponent smallint;
BEGIN
  FOR h IN UPDATE authorizations SET status = 'expired', settled_at = now()
            WHERE account_id = p_account_id AND status = 'pending' AND expires_at <= now()
           RETURNING * LOOP
    PERFORM picopay_hold_entry(h, 'release', h.amount, p_balance, NULL, NULL);
    -- The outbox (#18): authorization.expired, for the client that owns the hold (nobody's request expired it).
    IF v_exponent IS NULL THEN
      SELECT a.exponent INTO v_exponent FROM accounts a WHERE a.id = p_account_id;
    END IF;
    INSERT INTO events (type, client, user_id, data)
    VALUES ('authorization.expired', h.client, h.user_id, picopay_authorization_json(h, v_exponent));
    v_released := v_released + h.amount;
  END LOOP;
  IF v_released > 0 THEN
    UPDATE accounts SET held = held - v_released WHERE id = p_account_id;
  END IF;
  RETURN v_released;
END $$;
