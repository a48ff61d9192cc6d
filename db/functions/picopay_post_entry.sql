-- Success: append the entry for a balance change already applied to acct, record the response, return its body.
-- p_refund_of: the refunded charge, for a refund entry. Writes the movement's event (refund.succeeded, credit.succeeded).
CREATE OR REPLACE FUNCTION picopay_post_entry(p_client text, p_key text, acct accounts, p_type text,
  p_signed_amount bigint, p_description text, p_metadata jsonb, p_message text, p_refund_of bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  entry ledger_entries;
  rendered text;
  body text;
BEGIN
  INSERT INTO ledger_entries (account_id, user_id, type, amount, balance_after, client, idempotency_key,
                              description, metadata, refund_of)
  VALUES (acct.id, acct.user_id, p_type, p_signed_amount, acct.balance, p_client, p_key, p_description, p_metadata,
          p_refund_of)
  RETURNING * INTO entry;
  rendered := picopay_transaction_json(entry, acct.exponent, acct.currency);
  body := picopay_money_body(p_message, rendered, acct);
  -- The outbox (#18): refund.succeeded or credit.succeeded, its data the response's transaction object.
  INSERT INTO events (type, client, user_id, data, created_at)
  VALUES (p_type || '.succeeded', p_client, entry.user_id, rendered, entry.created_at);
  PERFORM picopay_complete_key(p_client, p_key, 200::smallint, NULL, body, entry.id);
  RETURN body;
END $$;
