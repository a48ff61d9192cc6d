-- Up Migration

-- Group commit, set-based writes. Each created charge used to insert its ledger entry and update its key's record
-- with statements of its own (about 120 µs of a hot-account charge's time in PostgreSQL, pg_stat_user_functions).
-- Now the loop decides every item in memory — its entry id from the identity sequence, so ids still follow arrival
-- order, its created_at now() as the column default would give, its response rendered from that entry — and two
-- statements write the batch: one INSERT of all its entries, one UPDATE of all its keys' responses. New keys are
-- claimed by one INSERT too (replays, reuses and declines keep their per-item statements). Outcomes, bodies, ids
-- and locking order are what picopay_charge would give each item one by one, as before.
CREATE OR REPLACE FUNCTION picopay_charge_batch(p_client text[], p_key text[], p_fingerprint bytea[], p_user_id bigint[],
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
  entry ledger_entries;
  entry_ids regclass := pg_get_serial_sequence('ledger_entries', 'id')::regclass;
  entries ledger_entries[] := '{}';
  created_bodies text[] := '{}';
  claimed_together boolean := true;
  fresh text[];
  taken text[] := '{}';
  tag text;
BEGIN
  -- Lock the batch's accounts in id order, then work on their balances in memory: a hot account is updated once
  -- per batch instead of once per charge.
  SELECT coalesce(array_agg(a ORDER BY a.id), '{}') INTO locked FROM (
    SELECT * FROM accounts
     WHERE (user_id, currency) IN (SELECT * FROM unnest(p_user_id, p_currency))
     ORDER BY id
       FOR UPDATE) a;
  SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(a.balance ORDER BY a.id), '{}')
    INTO ids, balances FROM unnest(locked) a;
  -- Claim every new key of the batch in one statement. It waits (lock_timeout) on a key that an uncommitted
  -- transaction elsewhere holds; if that times out, nothing of it is kept (one subtransaction for the batch) and
  -- each item claims alone, so that only its own item is key_in_use.
  BEGIN
    WITH claimed AS (
      INSERT INTO idempotency_keys (client, key, operation, fingerprint)
      SELECT * FROM unnest(p_client, p_key, array_fill('charge'::text, ARRAY[cardinality(p_key)]), p_fingerprint)
      ON CONFLICT (client, key) DO NOTHING
      RETURNING client, key)
    SELECT coalesce(array_agg(c.client || E'\n' || c.key), '{}') INTO fresh FROM claimed c;
  EXCEPTION WHEN lock_not_available THEN
    claimed_together := false;
  END;
  FOR i IN 1 .. coalesce(array_length(p_key, 1), 0) LOOP
    tag := p_client[i] || E'\n' || p_key[i];
    IF claimed_together AND tag = ANY (fresh) AND NOT tag = ANY (taken) THEN
      -- This item's key was new, and this is its first item: claimed. (A repeat, a replay of an earlier
      -- transaction's key or a reuse is decided by picopay_claim_key below, exactly as for a lone charge.)
      taken := taken || tag;
      SELECT 'claimed'::text AS outcome, NULL::smallint AS status, NULL::text AS code, NULL::text AS body INTO claim;
    ELSE
      SELECT * INTO claim FROM picopay_claim_key(p_client[i], p_key[i], 'charge', p_fingerprint[i]);
    END IF;
    outcome := claim.outcome; status := claim.status; code := claim.code; body := claim.body;
    IF claim.outcome = 'replayed' AND claim.status IS NULL THEN
      -- The key was claimed by an earlier item of this batch, whose response is written after the loop.
      FOR k IN 1 .. cardinality(entries) LOOP
        IF entries[k].client = p_client[i] AND entries[k].idempotency_key = p_key[i] THEN
          status := 200; code := NULL; body := created_bodies[k];
          EXIT;
        END IF;
      END LOOP;
    ELSIF claim.outcome = 'claimed' THEN
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
        entry := NULL;
        entry.id := nextval(entry_ids);
        entry.account_id := acct.id;
        entry.user_id := acct.user_id;
        entry.type := 'charge';
        entry.amount := -p_amount[i];
        entry.balance_after := acct.balance;
        entry.client := p_client[i];
        entry.idempotency_key := p_key[i];
        entry.description := p_description[i];
        entry.metadata := p_metadata[i];
        entry.created_at := now();
        outcome := 'created'; status := 200; code := NULL;
        body := picopay_money_response('Charge processed successfully', entry, acct);
        entries := entries || entry;
        created_bodies := created_bodies || body;
      ELSE
        SELECT * INTO why FROM picopay_decline(p_user_id[i], p_currency[i]);
        outcome := 'declined'; status := why.status; code := why.code;
        body := picopay_record_decline(p_client[i], p_key[i], why.status, why.code, why.title, why.detail);
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
  IF cardinality(entries) > 0 THEN
    INSERT INTO ledger_entries OVERRIDING SYSTEM VALUE SELECT * FROM unnest(entries);
    UPDATE idempotency_keys k
       SET response_status = 200, response_code = NULL, response_body = c.body, ledger_entry_id = e.id
      FROM unnest(entries) WITH ORDINALITY AS e
      JOIN unnest(created_bodies) WITH ORDINALITY AS c(body, ordinality) USING (ordinality)
     WHERE k.client = e.client AND k.key = e.idempotency_key;
  END IF;
  UPDATE accounts a SET balance = b.new_balance
    FROM unnest(ids, balances) AS b(id, new_balance)
   WHERE a.id = b.id AND a.balance <> b.new_balance;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION picopay_charge_batch(p_client text[], p_key text[], p_fingerprint bytea[], p_user_id bigint[],
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
