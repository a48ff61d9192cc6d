-- Up Migration

-- The debit of a claimed charge: conditional UPDATE (locks the row), then the entry or the recorded decline.
CREATE FUNCTION picopay_debit(p_client text, p_key text, p_user_id bigint, p_currency text, p_amount bigint,
  p_description text, p_metadata jsonb, OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  acct accounts;
  why record;
BEGIN
  UPDATE accounts SET balance = balance - p_amount
   WHERE user_id = p_user_id AND currency = p_currency AND balance >= p_amount
  RETURNING * INTO acct;
  IF NOT FOUND THEN
    SELECT * INTO why FROM picopay_decline(p_user_id, p_currency);
    outcome := 'declined'; status := why.status; code := why.code;
    body := picopay_record_decline(p_client, p_key, why.status, why.code, why.title, why.detail);
    RETURN;
  END IF;
  outcome := 'created'; status := 200;
  body := picopay_post_entry(p_client, p_key, acct, 'charge', -p_amount, p_description, p_metadata,
                             'Charge processed successfully');
END $$;

CREATE OR REPLACE FUNCTION picopay_charge(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_amount bigint, p_description text, p_metadata jsonb,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'charge', p_fingerprint) c;
  IF outcome = 'claimed' THEN
    SELECT d.outcome, d.status, d.code, d.body INTO outcome, status, code, body
      FROM picopay_debit(p_client, p_key, p_user_id, p_currency, p_amount, p_description, p_metadata) d;
  END IF;
END $$;

-- Many charges, one transaction, one round trip (group commit). Each item gets exactly the outcome picopay_charge
-- would give it, in arrival order. The batch's accounts are locked first, in id order, and only then are keys
-- claimed: with batching on, every charge (a lone one too) takes locks in that order, so batches never wait on each
-- other in a cycle. A key held by another transaction makes only its own item 'key_in_use' (picopay_claim_key's
-- handler: one subtransaction per item, which stays within PostgreSQL's 64 cached subtransactions per backend for
-- BATCH_MAX_SIZE <= 60). Any other error (lock timeout on an account, lost connection) rolls the whole batch back.
CREATE FUNCTION picopay_charge_batch(p_client text[], p_key text[], p_fingerprint bytea[], p_user_id bigint[],
  p_currency text[], p_amount bigint[], p_description text[], p_metadata jsonb[])
RETURNS TABLE (outcome text, status smallint, code text, body text)
LANGUAGE plpgsql AS $$
DECLARE
  i int;
  j int;
  claim record;
  why record;
  locked accounts[];
  ids bigint[];
  balances bigint[];
  acct accounts;
BEGIN
  -- Lock the batch's accounts in id order, then work on their balances in memory: a hot account is updated once
  -- per batch instead of once per charge (each UPDATE would add a row version to walk).
  SELECT coalesce(array_agg(a ORDER BY a.id), '{}') INTO locked FROM (
    SELECT * FROM accounts
     WHERE (user_id, currency) IN (SELECT * FROM unnest(p_user_id, p_currency))
     ORDER BY id
       FOR UPDATE) a;
  SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(a.balance ORDER BY a.id), '{}')
    INTO ids, balances FROM unnest(locked) a;
  FOR i IN 1 .. coalesce(array_length(p_key, 1), 0) LOOP
    SELECT * INTO claim FROM picopay_claim_key(p_client[i], p_key[i], 'charge', p_fingerprint[i]);
    outcome := claim.outcome; status := claim.status; code := claim.code; body := claim.body;
    IF claim.outcome = 'claimed' THEN
      j := NULL;
      FOR k IN 1 .. coalesce(array_length(locked, 1), 0) LOOP
        IF locked[k].user_id = p_user_id[i] AND locked[k].currency = p_currency[i] THEN
          j := k;
          EXIT;
        END IF;
      END LOOP;
      IF j IS NOT NULL AND balances[j] >= p_amount[i] THEN
        balances[j] := balances[j] - p_amount[i];
        acct := locked[j];
        acct.balance := balances[j];
        outcome := 'created'; status := 200; code := NULL;
        body := picopay_post_entry(p_client[i], p_key[i], acct, 'charge', -p_amount[i], p_description[i],
                                   p_metadata[i], 'Charge processed successfully');
      ELSE
        SELECT * INTO why FROM picopay_decline(p_user_id[i], p_currency[i]);
        outcome := 'declined'; status := why.status; code := why.code;
        body := picopay_record_decline(p_client[i], p_key[i], why.status, why.code, why.title, why.detail);
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
  UPDATE accounts a SET balance = b.new_balance
    FROM unnest(ids, balances) AS b(id, new_balance)
   WHERE a.id = b.id AND a.balance <> b.new_balance;
END $$;

-- Down Migration
DROP FUNCTION picopay_charge_batch;
CREATE OR REPLACE FUNCTION picopay_charge(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint,
  p_currency text, p_amount bigint, p_description text, p_metadata jsonb,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  acct accounts;
  why record;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'charge', p_fingerprint) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;
  UPDATE accounts SET balance = balance - p_amount
   WHERE user_id = p_user_id AND currency = p_currency AND balance >= p_amount
  RETURNING * INTO acct;
  IF NOT FOUND THEN
    SELECT * INTO why FROM picopay_decline(p_user_id, p_currency);
    outcome := 'declined'; status := why.status; code := why.code;
    body := picopay_record_decline(p_client, p_key, why.status, why.code, why.title, why.detail);
    RETURN;
  END IF;
  outcome := 'created'; status := 200;
  body := picopay_post_entry(p_client, p_key, acct, 'charge', -p_amount, p_description, p_metadata,
                             'Charge processed successfully');
END $$;
DROP FUNCTION picopay_debit;
