-- A new user with its opening balances (p_balances: [{currency, exponent, amount}]); each non-zero opening balance
-- is a credit entry, so balance == sum of entries from the first moment, with its credit.succeeded event.
CREATE OR REPLACE FUNCTION picopay_create_user(p_name text, p_balances jsonb) RETURNS text
LANGUAGE plpgsql
-- SECURITY DEFINER: writes as the owner, for a caller (the application role) that holds no write privilege itself;
-- search_path pinned so no schema the caller controls (pg_temp last: its tables are never found first) can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  new_id bigint;
  opening record;
  acct accounts;
  entry ledger_entries;
BEGIN
  INSERT INTO users (name) VALUES (p_name) RETURNING id INTO new_id;
  FOR opening IN SELECT * FROM jsonb_to_recordset(p_balances) AS x(currency text, exponent smallint, amount bigint)
  LOOP
    INSERT INTO accounts (user_id, currency, exponent, balance)
    VALUES (new_id, opening.currency, opening.exponent, opening.amount)
    RETURNING * INTO acct;
    IF opening.amount > 0 THEN
      INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, description)
      VALUES (acct.id, new_id, 'credit', opening.amount, opening.amount, 'Opening balance')
      RETURNING * INTO entry;
      -- The outbox (#18): an opening balance is a credit like any other; no client (the function is not told which
      -- admin key created the user), so only read:all sees it. Its data: the transaction as the ledger shows it.
      INSERT INTO events (type, client, user_id, data)
      VALUES ('credit.succeeded', NULL, new_id, picopay_transaction_json(entry, acct.exponent, acct.currency));
    END IF;
  END LOOP;
  RETURN picopay_user_json(new_id);
END $$;
