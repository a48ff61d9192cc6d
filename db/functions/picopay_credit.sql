-- The credit: claim the key, open the account in that currency when the user has none, add to the balance (up to
-- 2^53-1 minor units), append the entry, store the response. One statement, one transaction, one round trip.
CREATE OR REPLACE FUNCTION picopay_credit(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_exponent smallint, p_amount bigint, p_description text, p_metadata jsonb,
  p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner, for a caller (the application role) that holds no write privilege itself;
-- search_path pinned so no schema the caller controls (pg_temp last: its tables are never found first) can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
-- Index lookups by key whatever the statistics say: plans cached while a table was empty must not become
-- sequential scans as it grows (test/db/plans.test.ts).
SET enable_seqscan = off
AS $$
DECLARE
  acct accounts;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'credit', p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;

  -- KEY SHARE keeps the user from disappearing; the account row is then locked by the upsert.
  PERFORM 1 FROM users WHERE id = p_user_id FOR KEY SHARE;
  IF NOT FOUND THEN
    outcome := 'declined'; status := 404; code := 'user_not_found';
    body := picopay_record_decline(p_client, p_key, status, code, 'User not found', 'User not found');
    RETURN;
  END IF;

  INSERT INTO accounts (user_id, currency, exponent, balance) VALUES (p_user_id, p_currency, p_exponent, 0)
  ON CONFLICT (user_id, currency) DO NOTHING;
  UPDATE accounts SET balance = balance + p_amount
   WHERE user_id = p_user_id AND currency = p_currency AND balance <= 9007199254740991 - p_amount
  RETURNING * INTO acct;
  IF NOT FOUND THEN
    outcome := 'declined'; status := 422; code := 'balance_limit_exceeded';
    body := picopay_record_decline(p_client, p_key, status, code, 'Balance limit exceeded',
                                   'The credit would take the balance above the largest supported amount');
    RETURN;
  END IF;

  outcome := 'created'; status := 200;
  body := picopay_post_entry(p_client, p_key, acct, 'credit', p_amount, p_description, p_metadata,
                             'Credit processed successfully');
END $$;
