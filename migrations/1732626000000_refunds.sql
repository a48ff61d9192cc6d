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

-- The database's own guard against over-refunding, independent of picopay_refund: one row per refunded
-- charge whose running total CHECK keeps at most the charge amount. ledger_entries is append-only, so the total
-- cannot live on the charge row. The upsert locks the row, so even racing inserts cannot both pass.
CREATE TABLE charge_refund_totals (
  charge_id bigint PRIMARY KEY REFERENCES ledger_entries (id),
  amount    bigint NOT NULL CHECK (amount > 0),
  refunded  bigint NOT NULL CHECK (refunded > 0 AND refunded <= amount)
);

-- The guard trigger (db/functions/picopay_guard_refund.sql) keeps this table in step with the ledger; picopay_refund
-- (db/functions/picopay_refund.sql) is the refund itself.

-- Down Migration
-- Refuses (the restored sign check fails) once refunds exist: the ledger is append-only, so they cannot go away.
DROP TABLE charge_refund_totals;
DROP INDEX ledger_entries_refund_of;
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_refund_link,
  DROP CONSTRAINT ledger_entries_amount_sign,
  DROP CONSTRAINT ledger_entries_type_check,
  ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('charge', 'credit')),
  ADD CONSTRAINT ledger_entries_check
    CHECK ((type = 'charge' AND amount < 0) OR (type = 'credit' AND amount > 0));
ALTER TABLE ledger_entries DROP COLUMN refund_of;
