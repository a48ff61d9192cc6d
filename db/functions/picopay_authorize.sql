-- A hold: claim the key, lock the account, reserve the amount from its available balance (balance - held), append
-- a 'hold' entry, store the response (201, the authorization object). Declines as for charges, against the available
-- balance; holds past their expiry are settled first when the available balance would not do (lazy expiry), so the
-- common path does no extra work. One statement, one transaction, one round trip.
CREATE OR REPLACE FUNCTION picopay_authorize(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_amount bigint, p_expires_in_seconds int, p_description text, p_metadata jsonb,
  p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner for the application role (db/grants.sql); search_path pinned, pg_temp last.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
-- Index lookups by key whatever the statistics say (test/db/plans.test.ts).
SET enable_seqscan = off
AS $$
DECLARE
  acct accounts;
  h authorizations;
  why record;
  v_entry bigint;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'authorize', p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;

  SELECT * INTO acct FROM accounts WHERE user_id = p_user_id AND currency = p_currency FOR UPDATE;
  IF acct.id IS NOT NULL AND acct.balance - acct.held < p_amount THEN
    acct.held := acct.held - picopay_expire_account_holds(acct.id, acct.balance);
  END IF;
  IF acct.id IS NULL OR acct.balance - acct.held < p_amount THEN
    SELECT * INTO why FROM picopay_decline(p_user_id, p_currency);
    outcome := 'declined'; status := why.status; code := why.code;
    body := picopay_record_decline(p_client, p_key, why.status, why.code, why.title, why.detail);
    RETURN;
  END IF;

  INSERT INTO authorizations (account_id, user_id, currency, client, idempotency_key, amount, description, metadata,
                              expires_at)
  VALUES (acct.id, acct.user_id, acct.currency, p_client, p_key, p_amount, p_description, p_metadata,
          now() + make_interval(secs => p_expires_in_seconds))
  RETURNING * INTO h;
  UPDATE accounts SET held = held + p_amount WHERE id = acct.id;
  v_entry := picopay_hold_entry(h, 'hold', -p_amount, acct.balance, p_client, p_key);
  outcome := 'created'; status := 201;
  body := picopay_authorization_json(h, acct.exponent);
  -- The outbox (#18): the event in the same transaction, its data the response's authorization object.
  INSERT INTO events (type, client, user_id, data) VALUES ('authorization.created', p_client, h.user_id, body);
  PERFORM picopay_complete_key(p_client, p_key, status, NULL, body, v_entry);
END $$;
