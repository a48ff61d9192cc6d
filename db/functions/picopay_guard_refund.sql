-- The database's own guard against over-refunding, independent of picopay_refund: every refund entry, whoever
-- inserts it, must refund a charge of the same account and user, and it adds to the charge's row in
-- charge_refund_totals, whose CHECK (refunded <= amount) fails when the total would pass the charge amount. The upsert
-- locks that row, so even racing inserts cannot both pass.
CREATE OR REPLACE FUNCTION picopay_guard_refund() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE TRIGGER ledger_entries_refund_guard BEFORE INSERT ON ledger_entries
  FOR EACH ROW WHEN (NEW.refund_of IS NOT NULL) EXECUTE FUNCTION picopay_guard_refund();
