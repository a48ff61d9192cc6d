-- The refund: claim the key, find the charge, lock its account row (every balance change of the account takes it, so
-- the refunds summed next cannot change before commit), credit the account, append the refund entry, store the
-- response. One statement from the application, one transaction, one round trip.
-- p_amounts: the requested amount in minor units at each ISO 4217 exponent 0..4 (index exponent + 1; NULL where the
-- amount does not fit that exponent), since only the charge knows its currency; NULL: the whole remaining amount. An
-- amount that does not fit the charge's currency is a validation error, not a decision about the charge: it records
-- nothing and frees the key (outcome 'invalid_amount' with the currency's exponent).
-- A charge belongs to the client that made it: another client's charge is declined exactly like a missing one
-- (charge_not_found, no existence leak) unless p_any_charge (the caller's key holds refunds:any).
CREATE OR REPLACE FUNCTION picopay_refund(p_client text, p_key text, p_fingerprint bytea, p_charge_id bigint,
  p_amounts bigint[], p_reason text, p_any_charge boolean, p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text, OUT currency_exponent smallint)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner, for a caller (the application role) that holds no write privilege itself;
-- search_path pinned so no schema the caller controls (pg_temp last: its tables are never found first) can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
-- Index lookups by key whatever the statistics say: plans cached while a table was empty must not become
-- sequential scans as it grows (test/db/plans.test.ts).
SET enable_seqscan = off
AS $$
DECLARE
  charge ledger_entries;
  acct accounts;
  v_remaining bigint;
  v_amount bigint;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'refund', p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;

  SELECT * INTO charge FROM ledger_entries WHERE id = p_charge_id AND type = 'charge';
  IF NOT FOUND OR NOT (p_any_charge OR charge.client = p_client) THEN
    outcome := 'declined'; status := 404; code := 'charge_not_found';
    body := picopay_record_decline(p_client, p_key, status, code, 'Charge not found', 'Charge not found');
    RETURN;
  END IF;

  SELECT * INTO acct FROM accounts WHERE id = charge.account_id FOR UPDATE;
  v_remaining := -charge.amount - (SELECT coalesce(sum(r.amount), 0) FROM ledger_entries r WHERE r.refund_of = charge.id);
  v_amount := CASE WHEN p_amounts IS NULL THEN v_remaining ELSE p_amounts[acct.exponent + 1] END;

  IF v_amount IS NULL THEN
    DELETE FROM idempotency_keys k WHERE k.client = p_client AND k.key = p_key;
    outcome := 'invalid_amount'; status := 422; code := 'validation_failed'; currency_exponent := acct.exponent;
    RETURN;
  END IF;
  IF v_amount = 0 THEN
    outcome := 'declined'; status := 422; code := 'charge_not_refundable';
    body := picopay_record_decline(p_client, p_key, status, code, 'Charge not refundable',
                                   'The charge has already been fully refunded');
    RETURN;
  END IF;
  IF v_amount > v_remaining THEN
    outcome := 'declined'; status := 422; code := 'refund_exceeds_charge';
    body := picopay_record_decline(p_client, p_key, status, code, 'Refund exceeds charge',
                                   'The refund would take the refunded total above the charge amount');
    RETURN;
  END IF;

  UPDATE accounts SET balance = balance + v_amount
   WHERE id = acct.id AND balance <= 9007199254740991 - v_amount
  RETURNING * INTO acct;
  IF NOT FOUND THEN
    outcome := 'declined'; status := 422; code := 'balance_limit_exceeded';
    body := picopay_record_decline(p_client, p_key, status, code, 'Balance limit exceeded',
                                   'The credit would take the balance above the largest supported amount');
    RETURN;
  END IF;

  outcome := 'created'; status := 200;
  body := picopay_post_entry(p_client, p_key, acct, 'refund', v_amount, p_reason, '{}'::jsonb,
                             'Refund processed successfully', charge.id);
END $$;
