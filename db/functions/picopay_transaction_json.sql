-- A transaction object as every endpoint shows it. A charge shows how much of it was refunded and by which entries
-- (read at render time, hence STABLE), a refund shows its charge, a hold entry its authorization; the bytes come from
-- picopay_entry_json. A response stored under an Idempotency-Key keeps the state of its moment: a charge's stored
-- response always says nothing was refunded.
-- plpgsql, not sql: called from plpgsql, a sql function is planned afresh on every call; plpgsql keeps its plans.
CREATE OR REPLACE FUNCTION picopay_transaction_json(e ledger_entries, exponent smallint, currency text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  refunded bigint;
  refund_ids text;
BEGIN
  IF e.type = 'charge' THEN
    SELECT coalesce(sum(r.amount), 0), coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '')
      INTO refunded, refund_ids
      FROM ledger_entries r WHERE r.refund_of = e.id;
  END IF;
  RETURN picopay_entry_json(e, exponent, currency, refunded, refund_ids);
END $$;
