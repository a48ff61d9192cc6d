-- Up Migration

-- Users own accounts; accounts hold one balance per currency in integer minor units.
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text CHECK (char_length(name) <= 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- ISO 4217 exponent, fixed when the account is opened; lets SQL render major units exactly.
  exponent   smallint NOT NULL CHECK (exponent BETWEEN 0 AND 4),
  -- 2^53-1: every balance stays an exact JSON number for every client.
  balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0 AND balance <= 9007199254740991),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, currency)
);

-- Append-only: one row per balance change, signed amount, balance after the change.
CREATE TABLE ledger_entries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id      bigint NOT NULL REFERENCES accounts (id),
  user_id         bigint NOT NULL REFERENCES users (id),
  type            text NOT NULL CHECK (type IN ('charge', 'credit')),
  amount          bigint NOT NULL,
  balance_after   bigint NOT NULL CHECK (balance_after >= 0),
  client          text,
  idempotency_key text,
  description     text CHECK (char_length(description) <= 500),
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'charge' AND amount < 0) OR (type = 'credit' AND amount > 0)),
  CHECK ((client IS NULL) = (idempotency_key IS NULL))
);
CREATE INDEX ledger_entries_user_id_id ON ledger_entries (user_id, id DESC);
CREATE INDEX ledger_entries_account_id ON ledger_entries (account_id);

CREATE FUNCTION picopay_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION picopay_forbid_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION picopay_forbid_change();

-- One row per (client, Idempotency-Key): the request's fingerprint and the final response, byte for byte.
-- Rows are inserted first (the insert is the lock that makes racing requests wait) and completed in the same
-- transaction, so a committed row always carries its response.
CREATE TABLE idempotency_keys (
  client          text NOT NULL,
  key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  operation       text NOT NULL,
  fingerprint     bytea NOT NULL,
  response_status smallint,
  response_code   text,
  response_body   text,
  ledger_entry_id bigint UNIQUE REFERENCES ledger_entries (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client, key)
);

-- Major units as an exact numeric: 4990,2 -> 49.9; 5000,2 -> 50.0; 500,0 -> 500.
CREATE FUNCTION picopay_major(minor bigint, exponent smallint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN exponent = 0 THEN minor::numeric
    WHEN scale(trim_scale(minor::numeric / 10::numeric ^ exponent)) = 0 THEN round(minor::numeric / 10::numeric ^ exponent, 1)
    ELSE trim_scale(minor::numeric / 10::numeric ^ exponent)
  END
$$;

CREATE FUNCTION picopay_timestamp(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- JSON text of one value (null for NULL); the building block of the compact renderers below.
CREATE FUNCTION picopay_json(v anyelement) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(to_json(v)::text, 'null')
$$;

-- The one renderer of a transaction object; every endpoint that shows a transaction goes through it.
-- Compact JSON built by hand so the bytes are fixed (json_build_object pads with " : ").
CREATE FUNCTION picopay_transaction_json(e ledger_entries, exponent smallint, currency text) RETURNS text
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

-- Body of a successful charge or credit.
CREATE FUNCTION picopay_money_response(message text, e ledger_entries, a accounts) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{"message":' || picopay_json(message)
    || ',"transaction":' || picopay_transaction_json(e, a.exponent, a.currency)
    || ',"new_balance":' || picopay_major(a.balance, a.exponent)
    || ',"new_balance_minor":' || a.balance || '}'
$$;

-- RFC 9457 body of a final decline; the TypeScript error catalogue renders the same bytes (a test holds them equal).
CREATE FUNCTION picopay_problem(code text, status int, title text, detail text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT '{"type":' || picopay_json('urn:picopay:problem:' || code) || ',"title":' || picopay_json(title)
    || ',"status":' || status || ',"detail":' || picopay_json(detail) || ',"code":' || picopay_json(code) || '}'
$$;

-- Claims (client, key). A concurrent holder of the same key makes the INSERT wait for its commit or rollback,
-- bounded by lock_timeout. Returns outcome 'claimed', 'replayed', 'key_reused' or 'key_in_use'.
CREATE FUNCTION picopay_claim_key(p_client text, p_key text, p_operation text, p_fingerprint bytea,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  stored idempotency_keys;
BEGIN
  BEGIN
    INSERT INTO idempotency_keys (client, key, operation, fingerprint)
    VALUES (p_client, p_key, p_operation, p_fingerprint)
    ON CONFLICT (client, key) DO NOTHING;
  EXCEPTION WHEN lock_not_available THEN
    outcome := 'key_in_use';
    RETURN;
  END;
  IF FOUND THEN
    outcome := 'claimed';
    RETURN;
  END IF;
  SELECT * INTO stored FROM idempotency_keys k WHERE k.client = p_client AND k.key = p_key;
  IF stored.fingerprint <> p_fingerprint OR stored.operation <> p_operation THEN
    outcome := 'key_reused';
    RETURN;
  END IF;
  outcome := 'replayed';
  status := stored.response_status;
  code := stored.response_code;
  body := stored.response_body;
END $$;

CREATE FUNCTION picopay_complete_key(p_client text, p_key text, p_status smallint, p_code text, p_body text,
  p_entry_id bigint) RETURNS void
LANGUAGE sql AS $$
  UPDATE idempotency_keys
     SET response_status = p_status, response_code = p_code, response_body = p_body, ledger_entry_id = p_entry_id
   WHERE client = p_client AND key = p_key
$$;

-- Success: append the entry for a balance change already applied to acct, record the response, return its body.
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

-- A final decline: record its problem body under the key (no ledger entry) and return it.
CREATE FUNCTION picopay_record_decline(p_client text, p_key text, p_status smallint, p_code text, p_title text,
  p_detail text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  body text := picopay_problem(p_code, p_status, p_title, p_detail);
BEGIN
  PERFORM picopay_complete_key(p_client, p_key, p_status, p_code, body, NULL);
  RETURN body;
END $$;

-- Why a debit found no row: the decline that is recorded and replayed.
CREATE FUNCTION picopay_decline(p_user_id bigint, p_currency text,
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

-- The charge: claim the key, debit with the row locked by a conditional UPDATE, append the ledger entry,
-- store the response. One statement from the application, one transaction, one round trip.
CREATE FUNCTION picopay_charge(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint, p_currency text,
  p_amount bigint, p_description text, p_metadata jsonb,
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

-- The credit: same protocol; opens the account in that currency when the user has none.
CREATE FUNCTION picopay_credit(p_client text, p_key text, p_fingerprint bytea, p_user_id bigint, p_currency text,
  p_exponent smallint, p_amount bigint, p_description text, p_metadata jsonb,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
  acct accounts;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, 'credit', p_fingerprint) c;
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

-- A user with its balances by currency, in major and minor units.
CREATE FUNCTION picopay_user_json(p_user_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"id":' || u.id || ',"name":' || picopay_json(u.name)
    || ',"balances":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || picopay_major(a.balance, a.exponent), ','
                                              ORDER BY a.currency), '') || '}'
    || ',"balances_minor":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || a.balance, ','
                                                    ORDER BY a.currency), '') || '}'
    || ',"created_at":"' || picopay_timestamp(u.created_at) || '"}'
  FROM users u LEFT JOIN accounts a ON a.user_id = u.id
  WHERE u.id = p_user_id
  GROUP BY u.id
$$;

-- A new user with its opening balances (p_balances: [{currency, exponent, amount}]); each non-zero opening
-- balance is a credit entry, so balance == sum of entries from the first moment.
CREATE FUNCTION picopay_create_user(p_name text, p_balances jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  new_id bigint;
  opening record;
  acct accounts;
BEGIN
  INSERT INTO users (name) VALUES (p_name) RETURNING id INTO new_id;
  FOR opening IN SELECT * FROM jsonb_to_recordset(p_balances) AS x(currency text, exponent smallint, amount bigint)
  LOOP
    INSERT INTO accounts (user_id, currency, exponent, balance)
    VALUES (new_id, opening.currency, opening.exponent, opening.amount)
    RETURNING * INTO acct;
    IF opening.amount > 0 THEN
      INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, description)
      VALUES (acct.id, new_id, 'credit', opening.amount, opening.amount, 'Opening balance');
    END IF;
  END LOOP;
  RETURN picopay_user_json(new_id);
END $$;

-- Down Migration
DROP FUNCTION picopay_create_user, picopay_user_json, picopay_credit, picopay_charge, picopay_decline, picopay_record_decline, picopay_post_entry, picopay_complete_key, picopay_claim_key,
  picopay_problem, picopay_money_response, picopay_transaction_json, picopay_json, picopay_timestamp,
  picopay_major;
DROP TABLE idempotency_keys;
DROP TABLE ledger_entries;
DROP FUNCTION picopay_forbid_change;
DROP TABLE accounts;
DROP TABLE users;
