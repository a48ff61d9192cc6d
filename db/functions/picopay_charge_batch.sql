-- Charges: one implementation for a lone charge and for group commit. Many charges, one transaction, one round trip;
-- each item gets exactly the outcome it would get alone, in arrival order. The batch's accounts are locked first, in
-- id order, and only then are keys claimed, so batches never wait on each other in a cycle. Then the loop decides
-- every item in memory (replay, reuse, decline or debit, with the balances held in variables), its entry id from the
-- identity sequence so ids follow arrival order, its response rendered from that entry, and three statements write
-- the batch: one INSERT of its entries, one UPDATE of its keys' responses, one UPDATE per changed account. A key held
-- by another transaction makes only its own item 'key_in_use' (picopay_claim_key's handler: one subtransaction per
-- item, within PostgreSQL's 64 cached subtransactions per backend for BATCH_MAX_SIZE <= 60). Any other error (lock
-- timeout on an account, lost connection) rolls the whole batch back. A charge spends only the available balance
-- (balance - held, see picopay_authorize); only when that is short are the account's expired holds settled first
-- (lazy expiry, at most once per account and batch), so the common path does no extra work.
-- A lone charge (BATCH_ENABLED=false) is a batch of one, not a second implementation of the charge; with plans
-- made once per session (plan_cache_mode below) it costs about what a dedicated single-charge function costs.
CREATE OR REPLACE FUNCTION picopay_charge_batch(p_client text[], p_key text[], p_fingerprint bytea[], p_user_id bigint[],
  p_currency text[], p_amount bigint[], p_description text[], p_metadata jsonb[], p_retention interval,
  p_decline_retention interval)
RETURNS TABLE (outcome text, status smallint, code text, body text)
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner, for a caller (the application role) that holds no write privilege itself;
-- search_path pinned so no schema the caller controls (pg_temp last: its tables are never found first) can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
-- Index lookups by key whatever the statistics say: plans cached while a table was empty must not become
-- sequential scans as it grows (test/db/plans.test.ts).
SET enable_seqscan = off
-- Generic plans, made once per session: the parameters are arrays, whose length a custom plan knows, so PostgreSQL
-- would judge the generic plan costlier and plan every statement afresh on every call, most of what made a lone charge
-- (a batch of one) slower than a dedicated function (docs/BENCHMARKS.md, "A lone charge"). With enable_seqscan off
-- the generic plans use the same indexes (test/db/plans.test.ts).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  i int;
  j int;
  claim record;
  why record;
  locked accounts[];
  ids bigint[];
  balances bigint[];
  helds bigint[];
  expired_checked bigint[] := '{}';
  acct accounts;
  entry ledger_entries;
  entries ledger_entries[] := '{}';
  created_bodies text[] := '{}';
  created_transactions text[] := '{}';
  rendered text;
  claimed_together boolean := true;
  fresh text[];
  taken text[] := '{}';
  tag text;
BEGIN
  -- Lock the batch's accounts in id order, then work on their balances in memory: a hot account is updated once
  -- per batch instead of once per charge.
  SELECT coalesce(array_agg(a ORDER BY a.id), '{}'), coalesce(array_agg(a.id ORDER BY a.id), '{}'),
         coalesce(array_agg(a.balance ORDER BY a.id), '{}'), coalesce(array_agg(a.held ORDER BY a.id), '{}')
    INTO locked, ids, balances, helds FROM (
    SELECT * FROM accounts
     WHERE (user_id, currency) IN (SELECT * FROM unnest(p_user_id, p_currency))
     ORDER BY id
       FOR UPDATE) a;
  -- Claim every new key of the batch in one statement. It waits (lock_timeout) on a key that an uncommitted
  -- transaction elsewhere holds; if that times out, nothing of it is kept (one subtransaction for the batch) and
  -- each item claims alone, so that only its own item is key_in_use. A batch of one claims alone at once: it would
  -- otherwise wait out lock_timeout twice on a held key.
  IF cardinality(p_key) = 1 THEN
    claimed_together := false;
  ELSE
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
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_key, 1), 0) LOOP
    tag := p_client[i] || E'\n' || p_key[i];
    IF claimed_together AND tag = ANY (fresh) AND NOT tag = ANY (taken) THEN
      -- This item's key was new, and this is its first item: claimed. (A repeat, a replay of an earlier
      -- transaction's key, an expired record or a reuse is decided by picopay_claim_key below, exactly as for a
      -- lone charge.)
      taken := taken || tag;
      SELECT 'claimed'::text AS outcome, NULL::smallint AS status, NULL::text AS code, NULL::text AS body INTO claim;
    ELSE
      SELECT * INTO claim FROM picopay_claim_key(p_client[i], p_key[i], 'charge', p_fingerprint[i], p_retention,
                                                     p_decline_retention);
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
      IF j IS NOT NULL AND balances[j] - helds[j] < p_amount[i] AND NOT ids[j] = ANY (expired_checked) THEN
        expired_checked := expired_checked || ids[j];
        helds[j] := helds[j] - picopay_expire_account_holds(ids[j], balances[j]);
      END IF;
      IF j IS NOT NULL AND balances[j] - helds[j] >= p_amount[i] THEN
        balances[j] := balances[j] - p_amount[i];
        acct := locked[j];
        acct.balance := balances[j];
        acct.held := helds[j];
        entry := NULL;
        entry.id := nextval('ledger_entries_id_seq'); -- ledger_entries.id's identity sequence, resolved once per plan
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
        -- Rendered once, for the response and the event: a charge being created has no refunds to look up.
        rendered := picopay_entry_json(entry, acct.exponent, acct.currency, 0, '');
        body := picopay_money_body('Charge processed successfully', rendered, acct);
        entries := entries || entry;
        created_bodies := created_bodies || body;
        created_transactions := created_transactions || rendered;
      ELSE
        SELECT * INTO why FROM picopay_decline(p_user_id[i], p_currency[i]);
        outcome := 'declined'; status := why.status; code := why.code;
        body := picopay_record_charge_decline(p_client[i], p_key[i], p_user_id[i], p_currency[i], p_amount[i],
                                              why.status, why.code, why.title, why.detail);
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
    -- The outbox (#18): one charge.succeeded event per entry, in the same transaction, one statement for the batch,
    -- its data the very text of the response's transaction object.
    INSERT INTO events (type, client, user_id, data, created_at)
    SELECT 'charge.succeeded', e.client, e.user_id, t.data, e.created_at
      FROM unnest(entries) WITH ORDINALITY AS e
      JOIN unnest(created_transactions) WITH ORDINALITY AS t(data, ordinality) USING (ordinality)
     ORDER BY e.id;
  END IF;
  UPDATE accounts a SET balance = b.new_balance
    FROM unnest(ids, balances) AS b(id, new_balance)
   WHERE a.id = b.id AND a.balance <> b.new_balance;
END $$;
