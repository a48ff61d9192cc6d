-- Up Migration

-- Idempotency records expire (IDEMPOTENCY_RETENTION; IDEMPOTENCY_DECLINE_RETENTION for declines about a user or
-- charge that does not exist). The purge and the claim find expired records by age through these indexes, never by
-- a scan of the table (test/db/plans.test.ts runs with enable_seqscan off). IF NOT EXISTS: on a large table an
-- operator may build them CONCURRENTLY first, under these names (docs/DEPLOY.md).
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
-- The short-lived declines: a small partial index, so purging them never walks the long-lived records.
CREATE INDEX IF NOT EXISTS idempotency_keys_short_lived_created_at ON idempotency_keys (created_at)
  WHERE response_code IN ('user_not_found', 'charge_not_found');

-- The money functions and the claim now take the two retentions: new signatures, so the old ones go. Their current
-- definitions are in db/functions/.
DROP FUNCTION IF EXISTS picopay_charge(text, text, bytea, bigint, text, bigint, text, jsonb);
DROP FUNCTION IF EXISTS picopay_charge_batch(text[], text[], bytea[], bigint[], text[], bigint[], text[], jsonb[]);
DROP FUNCTION IF EXISTS picopay_credit(text, text, bytea, bigint, text, smallint, bigint, text, jsonb);
DROP FUNCTION IF EXISTS picopay_refund(text, text, bytea, bigint, bigint[], text, boolean);
DROP FUNCTION IF EXISTS picopay_claim_key(text, text, text, bytea);

-- Down Migration
DROP INDEX IF EXISTS idempotency_keys_short_lived_created_at;
DROP INDEX IF EXISTS idempotency_keys_created_at;
