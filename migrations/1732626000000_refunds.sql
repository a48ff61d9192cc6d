-- Up Migration

-- A refund is a ledger entry of its own (type 'refund', positive: money back to the charged account), linked to
-- the charge it refunds. Existing entries are all charges and credits, so the new constraints hold for them.
ALTER TABLE ledger_entries ADD COLUMN refund_of bigint REFERENCES ledger_entries (id);
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_type_check,
  DROP CONSTRAINT ledger_entries_check,
  ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('charge', 'credit', 'refund')),
  ADD CONSTRAINT ledger_entries_amount_sign
    CHECK ((type = 'charge' AND amount < 0) OR (type IN ('credit', 'refund') AND amount > 0)),
  ADD CONSTRAINT ledger_entries_refund_link CHECK ((type = 'refund') = (refund_of IS NOT NULL));
-- The refunds of a charge: rendered with it, summed under the account lock.
CREATE INDEX ledger_entries_refund_of ON ledger_entries (refund_of) WHERE refund_of IS NOT NULL;

-- The database's own guard against over-refunding, independent of the functions below: one row per refunded
-- charge whose running total CHECK keeps at most the charge amount. ledger_entries is append-only, so the total
-- cannot live on the charge row. The upsert locks the row, so even racing inserts cannot both pass.
CREATE TABLE charge_refund_totals (
  charge_id bigint PRIMARY KEY REFERENCES ledger_entries (id),
  amount    bigint NOT NULL CHECK (amount > 0),
  refunded  bigint NOT NULL CHECK (refunded > 0 AND refunded <= amount)
);

-- Every refund entry, whoever inserts it: it must refund a charge of the same account and user, and it adds to
-- the charge's total (a check_violation when the total would pass the charge amount).
CREATE FUNCTION picopay_guard_refund() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  charge ledger_entries;
BEGIN
  SELECT * INTO charge FROM ledger_entries WHERE id = NEW.refund_of;
  IF NOT FOUND OR charge.type <> 'charge' OR charge.account_id <> NEW.account_id OR charge.user_id <> NEW.user_id THEN
    RAISE EXCEPTION 'refund must refund a charge of its own account (refund_of %)', NEW.refund_of
      USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO charge_refund_totals AS t (charge_id, amount, refunded) VALUES (charge.id, -charge.amount, NEW.amount)
  ON CONFLICT (charge_id) DO UPDATE SET refunded = t.refunded + EXCLUDED.refunded;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_refund_guard BEFORE INSERT ON ledger_entries
  FOR EACH ROW WHEN (NEW.refund_of IS NOT NULL) EXECUTE FUNCTION picopay_guard_refund();

-- The one renderer, now with the refund links: a charge shows how much of it was refunded and by which entries
-- (read at render time, so STABLE, no longer IMMUTABLE), a refund shows its charge. A response stored under an
-- Idempotency-Key keeps the state of its moment: a charge's stored response always says nothing was refunded.
CREATE OR REPLACE FUNCTION picopay_transaction_json(e ledger_entries, exponent smallint, currency text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT '{"id":' || e.id
    || ',"type":' || picopay_json(e.type)
    || ',"user_id":' || e.user_id
    || ',"amount":' || picopay_major(abs(e.amount), exponent)
    || ',"amount_minor":' || abs(e.amount)
    || ',"signed_amount":' || picopay_major(e.amount, exponent)
    || ',"signed_amount_minor":' || e.amount
    || ',"currency":' || picopay_json(currency)
    || ',"status":"completed"'
    || ',"idempotency_key":' || picopay_json(e.idempotency_key)
    || ',"description":' || picopay_json(e.description)
    || ',"metadata":' || picopay_json(e.metadata)
    || ',"balance_after":' || picopay_major(e.balance_after, exponent)
    || ',"balance_after_minor":' || e.balance_after
    || ',"created_at":"' || picopay_timestamp(e.created_at) || '"'
    || CASE e.type
         WHEN 'charge' THEN (
           SELECT ',"amount_refunded":' || picopay_major(coalesce(sum(r.amount), 0)::bigint, exponent)
             || ',"amount_refunded_minor":' || coalesce(sum(r.amount), 0)
             || ',"refunds":[' || coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '') || ']'
             FROM ledger_entries r WHERE r.refund_of = e.id)
         WHEN 'refund' THEN ',"charge_id":' || e.refund_of
         ELSE ''
       END
    || '}'
$$;

-- Calls the renderer above, so it reads tables too.
CREATE OR REPLACE FUNCTION picopay_money_response(message text, e ledger_entries, a accounts) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT '{"message":' || picopay_json(message)
    || ',"transaction":' || picopay_transaction_json(e, a.exponent, a.currency)
    || ',"new_balance":' || picopay_major(a.balance, a.exponent)
    || ',"new_balance_minor":' || a.balance || '}'
$$;

-- Same as before plus the refunded charge; a default keeps the charge and credit calls as they are (the old
-- signature is dropped, or those calls would be ambiguous).
DROP FUNCTION picopay_post_entry(text, text, accounts, text, bigint, text, jsonb, text);
CREATE FUNCTION picopay_post_entry(p_client text, p_key text, acct accounts, p_type text, p_signed_amount bigint,
  p_description text, p_metadata jsonb, p_message text, p_refund_of bigint DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  entry ledger_entries;
  body text;
BEGIN
  INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, client, idempotency_key,
                              description, metadata, refund_of)
  VALUES (acct.id, acct.user_id, p_type, p_signed_amount, acct.balance, p_client, p_key, p_description, p_metadata,
          p_refund_of)
  RETURNING * INTO entry;
  body := picopay_money_response(p_message, entry, acct);
  PERFORM picopay_complete_key(p_client, p_key, 200::smallint, NULL, body, entry.id);
  RETURN body;
END $$;

-- The refund: claim the key, find the charge, lock its account row (every balance change of the account takes
-- it, so the refunds summed next cannot change before commit), credit the account, append the refund entry, store
-- the response. One statement from the application, one transaction, one round trip.
-- p_amounts: the requested amount in minor units at each ISO 4217 exponent 0..4 (index exponent + 1; NULL where
-- the amount does not fit that exponent), since only the charge knows its currency; NULL: the whole remaining
-- amount. An amount that does not fit the charge's currency is a validation error, not a decision about the
-- charge: it records nothing and frees the key (outcome 'invalid_amount' with the currency's exponent).
CREATE FUNCTION picopay_refund(p_client text, p_key text, p_fingerprint bytea, p_charge_id bigint,
  p_amounts bigint[], p_reason text,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text, OUT currency_exponent smallint)
LANGUAGE plpgsql AS $$
DECLARE
  charge ledger_entries;
  acct accounts;
  v_remaining bigint;
  v_amount bigint;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'refund', p_fingerprint) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;

  SELECT * INTO charge FROM ledger_entries WHERE id = p_charge_id AND type = 'charge';
  IF NOT FOUND THEN
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

-- Down Migration
-- Refuses (the restored sign check fails) once refunds exist: the ledger is append-only, so they cannot go away.
DROP FUNCTION picopay_refund;
DROP TRIGGER ledger_entries_refund_guard ON ledger_entries;
DROP FUNCTION picopay_guard_refund;
DROP TABLE charge_refund_totals;

DROP FUNCTION picopay_post_entry(text, text, accounts, text, bigint, text, jsonb, text, bigint);
CREATE FUNCTION picopay_post_entry(p_client text, p_key text, acct accounts, p_type text, p_signed_amount bigint,
  p_description text, p_metadata jsonb, p_message text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  entry ledger_entries;
  body text;
BEGIN
  INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, client, idempotency_key,
                              description, metadata)
  VALUES (acct.id, acct.user_id, p_type, p_signed_amount, acct.balance, p_client, p_key, p_description, p_metadata)
  RETURNING * INTO entry;
  body := picopay_money_response(p_message, entry, acct);
  PERFORM picopay_complete_key(p_client, p_key, 200::smallint, NULL, body, entry.id);
  RETURN body;
END $$;

CREATE OR REPLACE FUNCTION picopay_transaction_json(e ledger_entries, exponent smallint, currency text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{"id":' || e.id
    || ',"type":' || picopay_json(e.type)
    || ',"user_id":' || e.user_id
    || ',"amount":' || picopay_major(abs(e.amount), exponent)
    || ',"amount_minor":' || abs(e.amount)
    || ',"signed_amount":' || picopay_major(e.amount, exponent)
    || ',"signed_amount_minor":' || e.amount
    || ',"currency":' || picopay_json(currency)
    || ',"status":"completed"'
    || ',"idempotency_key":' || picopay_json(e.idempotency_key)
    || ',"description":' || picopay_json(e.description)
    || ',"metadata":' || picopay_json(e.metadata)
    || ',"balance_after":' || picopay_major(e.balance_after, exponent)
    || ',"balance_after_minor":' || e.balance_after
    || ',"created_at":"' || picopay_timestamp(e.created_at) || '"}'
$$;

CREATE OR REPLACE FUNCTION picopay_money_response(message text, e ledger_entries, a accounts) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{"message":' || picopay_json(message)
    || ',"transaction":' || picopay_transaction_json(e, a.exponent, a.currency)
    || ',"new_balance":' || picopay_major(a.balance, a.exponent)
    || ',"new_balance_minor":' || a.balance || '}'
$$;

DROP INDEX ledger_entries_refund_of;
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_refund_link,
  DROP CONSTRAINT ledger_entries_amount_sign,
  DROP CONSTRAINT ledger_entries_type_check,
  ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('charge', 'credit')),
  ADD CONSTRAINT ledger_entries_check
    CHECK ((type = 'charge' AND amount < 0) OR (type = 'credit' AND amount > 0));
ALTER TABLE ledger_entries DROP COLUMN refund_of;
