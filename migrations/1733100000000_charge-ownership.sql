-- Up Migration

-- Refunds check who owns the charge: picopay_refund takes whether the caller may refund any client's charge
-- (db/functions/picopay_refund.sql). A new argument is a new signature, so the old one goes.
DROP FUNCTION IF EXISTS picopay_refund(text, text, bytea, bigint, bigint[], text);

-- Down Migration
-- Functions are forward-only (db/functions/); nothing to restore here.
